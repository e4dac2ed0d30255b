"""The database unreachable: brief 503s with Retry-After — a French page for people, JSON for
the API and the webhooks, 451 for inbound mail — never a 500, and nothing acknowledged lost.

On PostgreSQL, real processes: the web process (uvicorn, as runstack starts it) and the
e-mail gateway reach the test database through a TCP proxy of the test's own, which is cut
(every connection dropped, new ones refused: PostgreSQL restarting, as seen from the
application) and restored. The machine's PostgreSQL itself is never touched. What was refused
during the cut is sent again by its sender afterwards, as real senders do, and is then stored
exactly once. On SQLite (one process, a file), the same answers in-process with the database
file out of reach."""

from __future__ import annotations

import json
import signal
import smtplib
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from permanence.accounts.models import ClientAccount, ContactChannel, User
from permanence.desk.models import CallEvent
from permanence.desk.signature import signature_header
from permanence.inbox.models import Conversation
from testkit.faults import Browser, TcpProxy, wait_for
from testkit.stack import ROOT, base_env, free_port

PASSWORD = "Mot-de-passe-Panne-42!"
ADDRESS = "accueil@cabinet-coupure.test"
NUMBER = "+33145000077"
SECRET = "telephony-secret-of-the-fault-test"
on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="PostgreSQL: a database server that goes away (SQLite: the in-process test)")
on_sqlite = pytest.mark.skipif(
    connection.vendor != "sqlite",
    reason="SQLite: its file out of reach (PostgreSQL: the cross-process test)")


def _unavailable_page(reply: Any) -> None:
    assert reply.status == 503, (reply.status, reply.body[:500])
    assert reply.headers.get("retry-after") == "5"
    assert "momentanément indisponible" in reply.body


def _unavailable_json(reply: Any) -> None:
    assert reply.status == 503, (reply.status, reply.body[:500])
    assert reply.headers.get("retry-after") == "5"
    assert json.loads(reply.body)["code"] == "unavailable"


# --- SQLite, in-process -------------------------------------------------------------------------

@on_sqlite
@pytest.mark.django_db(transaction=True)
def test_sqlite_out_of_reach_answers_503_page_and_json(tmp_path: Path) -> None:
    agent = User.objects.create_user("agent-coupure@permanence.test", PASSWORD, role="agent",
                                     full_name="Agent Coupure")
    client = Client(raise_request_exception=False)
    client.force_login(agent)
    assert client.get("/app/").status_code == 200
    name = connection.settings_dict["NAME"]
    connection.close()
    connection.settings_dict["NAME"] = str(tmp_path / "gone" / "permanence.sqlite3")
    try:
        page = client.get("/app/")
        api = client.get("/api/v1/accounts", headers={"Authorization": "Bearer abc"})
    finally:
        connection.close()
        connection.settings_dict["NAME"] = name
    assert page.status_code == 503 and page["Retry-After"] == "5"
    assert "momentanément indisponible" in page.content.decode()
    assert api.status_code == 503 and api.json()["code"] == "unavailable"
    assert client.get("/app/").status_code == 200  # back: the same session works


# --- PostgreSQL, across processes ---------------------------------------------------------------

@contextmanager
def _process(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[str]]:
    with log.open("w") as out:
        proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=out,  # noqa: S603
                                stderr=subprocess.STDOUT, text=True)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _mail(subject: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Jean Patient <jean@exemple.fr>"
    msg["To"] = ADDRESS
    msg["Subject"] = subject
    msg["Message-ID"] = f"<{uuid.uuid4()}@exemple.fr>"
    msg.set_content("Bonjour, je voudrais un rendez-vous.")
    return msg


def _send_mail(port: int, msg: EmailMessage) -> int:
    """250 when the gateway accepted it; else the SMTP code it answered."""
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
            smtp.send_message(msg)
    except smtplib.SMTPResponseException as exc:
        return int(exc.smtp_code)
    except smtplib.SMTPRecipientsRefused as exc:
        return int(next(iter(exc.recipients.values()))[0])
    return 250


def _call_event(browser: Browser, event_id: str) -> Any:
    body = json.dumps({"event_id": event_id, "event": "ringing", "call_id": "coupure-1",
                       "occurred_at": "2026-11-23T09:00:00+01:00", "direction": "inbound",
                       "from": "+33612345678", "to": NUMBER}).encode()
    return browser.request("POST", "/api/v1/telephony/events", json_body=body, headers={
        "X-Permanence-Signature": signature_header(body, SECRET)})


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_postgresql_cut_503s_then_back_and_nothing_acknowledged_lost(tmp_path: Path,
                                                                    settings: Any) -> None:
    # Hashed as the web process checks it (the test process hashes with MD5, for speed).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    account = ClientAccount.objects.create(slug="coupure", name="Cabinet Coupure",
                                           status="actif")
    ContactChannel.objects.create(account=account, kind="email", value=ADDRESS)
    ContactChannel.objects.create(account=account, kind="phone", value=NUMBER)
    agent = User.objects.create_user("agent-coupure@permanence.test", PASSWORD, role="agent",
                                     full_name="Agent Coupure")
    agent.assigned_accounts.add(account)
    db = connection.settings_dict
    with TcpProxy(db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432)) as proxy:
        auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
        env = base_env(tmp_path, tmp_path / "unused.sqlite3",
                       DATABASE_URL=f"postgres://{auth}@127.0.0.1:{proxy.port}/{db['NAME']}",
                       DB_POOL_TIMEOUT="2", TWO_FACTOR_REQUIRED_ROLES="",
                       TELEPHONY_WEBHOOK_SECRET=SECRET, TELEPHONY_PROCESSING="inline",
                       MAILGATEWAY_PORT=str(free_port()))
        smtp_port = int(env["MAILGATEWAY_PORT"])
        web_port = free_port()
        with _process([sys.executable, "-m", "uvicorn", "permanence.asgi:application",
                       "--host", "127.0.0.1", "--port", str(web_port), "--no-access-log",
                       "--lifespan", "off"], env, tmp_path / "web.log"), \
                _process([sys.executable, "manage.py", "mailgateway"], env,
                         tmp_path / "gateway.log"):
            staff = Browser(f"http://127.0.0.1:{web_port}")

            def up() -> bool:
                try:
                    return staff.get("/healthz").status == 200
                except OSError:
                    return False

            wait_for(up, 90, "the web process")
            wait_for(lambda: _send_mail(smtp_port, _mail("Avant la coupure")) == 250, 90,
                     "the e-mail gateway")
            assert staff.login("agent-coupure@permanence.test", PASSWORD).status == 302
            assert staff.get("/app/").status == 200
            assert _call_event(staff, "before").status == 200

            proxy.cut()
            # People: a French page saying to come back shortly; the API and the webhooks:
            # JSON 503; inbound mail: 451, kept by the sending server.
            _unavailable_page(staff.get("/app/"))
            _unavailable_page(staff.get("/app/boite/"))
            _unavailable_json(staff.get("/api/v1/accounts",
                                        headers={"Authorization": "Bearer abc"}))
            _unavailable_json(staff.get("/app/", headers={"Accept": "application/json"}))
            _unavailable_json(_call_event(staff, "during"))
            assert staff.get("/healthz").status == 503
            during = _mail("Pendant la coupure")
            assert _send_mail(smtp_port, during) == 451

            proxy.restore()
            # Brief: back within a few seconds (a pooled connection broken by the cut is
            # answered 503 once at most, then replaced).
            wait_for(lambda: staff.get("/app/").status == 200, 30, "the pages back")
            assert staff.get("/app/boite/").status == 200
            # The senders try again: stored once each, nothing lost, nothing doubled.
            assert _call_event(staff, "during").status == 200
            assert _call_event(staff, "during").status == 200  # a duplicate is recognised
            # A sending server retries a 451 later (minutes, for Postfix): here every half
            # second, until the gateway's pooled connections broken by the cut are replaced.
            wait_for(lambda: _send_mail(smtp_port, during) == 250, 30, "the mail accepted")
            assert CallEvent.objects.filter(event_id="during").count() == 1
            assert Conversation.objects.filter(subject="Pendant la coupure").count() == 1
            assert not [s for s in staff.statuses if s[2] == 500], staff.statuses
