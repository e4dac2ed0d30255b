"""Ingest N e-mails through the real SMTP gateway process (messages/s), as in production:
`manage.py mailgateway` in its own process, several concurrent SMTP clients."""

from __future__ import annotations

import os
import smtplib
import socket
import subprocess
import sys
import threading
import time
from email.message import EmailMessage
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
N_MAILS = int(os.environ.get("BENCH_MAILS", "10000"))
# Concurrent SMTP connections, each sending many messages (as a relay does).
CLIENTS = int(os.environ.get("BENCH_SMTP_CLIENTS", "8"))
# One gateway process per core, sharing the port (SO_REUSEPORT), as recommended for volume.
PROCESSES = int(os.environ.get("BENCH_GATEWAY_PROCESSES", str(os.cpu_count() or 2)))
ADDRESS = "accueil@bench-ingest.test"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _setup() -> int:
    from permanence.accounts.models import ClientAccount, ContactChannel

    account, _ = ClientAccount.objects.get_or_create(
        slug="bench-ingest", defaults={"name": "Bench ingest", "status": "actif"})
    ContactChannel.objects.get_or_create(value=ADDRESS, defaults={"account": account,
                                                                  "kind": "email"})
    return account.pk


def _message(i: int, run: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = f"Client {i} <client{i}.{run}@exemple.fr>"
    msg["To"] = ADDRESS
    msg["Subject"] = f"Demande de rendez-vous n° {i}"
    msg["Message-ID"] = f"<bench-{run}-{i}@exemple.fr>"
    msg.set_content("Bonjour,\n\nJe souhaiterais prendre rendez-vous la semaine prochaine, "
                    "de préférence le matin.\n\nCordialement,\nUn client\n" * 3)
    return msg


def run() -> list[tuple[str, str, str, bool]]:
    from permanence.inbox.models import Conversation

    account_id = _setup()
    port = _free_port()
    server = subprocess.Popen(  # noqa: S603
        [sys.executable, "manage.py", "mailgateway", "--host", "127.0.0.1", "--port", str(port),
         "--processes", str(PROCESSES)],
        cwd=ROOT, env=dict(os.environ), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    run_id = str(int(time.time()))
    before = Conversation.objects.filter(account_id=account_id).count()
    errors: list[str] = []
    try:
        for _ in range(150):
            try:
                with smtplib.SMTP("127.0.0.1", port, timeout=5) as probe:
                    probe.noop()
                break
            except OSError:
                time.sleep(0.2)
        # Rendered beforehand: a sending MTA relays bytes, it does not compose messages;
        # composing them here would put this process's CPU into the gateway's figure.
        raws = [_message(i, run_id).as_bytes() for i in range(N_MAILS)]
        senders = [f"client{i}.{run_id}@exemple.fr" for i in range(N_MAILS)]
        counter = iter(range(N_MAILS))
        lock = threading.Lock()

        def client() -> None:
            with smtplib.SMTP("127.0.0.1", port, timeout=60) as smtp:
                while True:
                    with lock:
                        i = next(counter, None)
                    if i is None:
                        return
                    try:
                        smtp.sendmail(senders[i], [ADDRESS], raws[i])
                    except smtplib.SMTPException as exc:
                        errors.append(str(exc)[:200])

        threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=10)
    stored = Conversation.objects.filter(account_id=account_id).count() - before
    rate = N_MAILS / elapsed
    print(f"\n== SMTP ingest: {N_MAILS:,} e-mails, {CLIENTS} concurrent clients, "
          f"{PROCESSES} gateway processes ==")
    print(f"  {rate:,.0f} messages/s ({elapsed:.1f} s); stored {stored:,} new conversations; "
          f"{len(errors)} refused")
    return [("SMTP ingest throughput", f"{rate:,.0f} msg/s", "≥ 100 msg/s", rate >= 100),
            ("SMTP ingest stored every message", f"{stored:,}/{N_MAILS:,}", "all",
             stored == N_MAILS and not errors)]
