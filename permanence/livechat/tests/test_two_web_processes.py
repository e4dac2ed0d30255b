"""Two web processes sharing one database and one Redis deliver each other's chat messages.

The real stack (`manage.py runstack`: web A, worker, scheduler, gateway) and a second web
process B (uvicorn, as runstack starts its web, on another port, same environment). The
visitor is on A (start and websocket), the secretary on B (console websocket, and the
console's HTTP actions to take and answer the chat). What one process writes reaches the
sockets of the other only through Redis (the in-memory layer of the embedded default is per
process): skipped without REDIS_URL."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import connect

from testkit.stack import ROOT, base_env, free_port, manage, migrated_database, running_stack

pytestmark = [
    pytest.mark.skipif(not os.path.isdir("/proc"), reason="needs Linux /proc"),
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="REDIS_URL not set"),
]

SETUP = """
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from permanence.accounts.models import ClientAccount, User
from permanence.calendars.models import BusinessCalendar
from permanence.livechat.models import ChatSettings
always = {d: [["00:00", "23:59"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
calendar = BusinessCalendar.objects.create(name="Toujours", weekly=always, holidays="")
account = ClientAccount.objects.create(slug="two-web", name="Cabinet Deux", status="actif",
                                       calendar=calendar)
ChatSettings.objects.create(account=account, enabled=True, allowed_origins="{origin}")
user = User.objects.create_user("agent-two@permanence.test", "Mot-de-passe-42!", role="agent",
                                full_name="Agent Deux")
user.assigned_accounts.add(account)
session = SessionStore()
session[SESSION_KEY] = str(user.pk)
session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
session[HASH_SESSION_KEY] = user.get_session_auth_hash()
session.create()
print("SESSION=" + session.session_key)
"""

CHAT_ID = """
from permanence.livechat.models import ChatSession
print("CHAT=%s" % ChatSession.objects.get().pk)
"""


def _web_up(url: str) -> bool:
    with urllib.request.urlopen(url + "/healthz", timeout=2) as response:  # noqa: S310 (loopback)
        return bool(response.status == 200)


@contextmanager
def second_web(env: dict[str, str], log: Path) -> Iterator[str]:
    """Another web process, as runstack starts its own (runstack.processes), on a free port."""
    port = free_port()
    with log.open("w") as out:
        proc = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "uvicorn", "permanence.asgi:application", "--host",
             "127.0.0.1", "--port", str(port), "--no-access-log", "--lifespan", "off"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if _web_up(url):
                    break
            except OSError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _frames_until(ws: Any, check: Any, timeout: float = 15) -> list[dict[str, Any]]:
    frames: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        assert left > 0, f"timed out; got {frames}"
        frame = json.loads(ws.recv(timeout=left))
        frames.append(frame)
        if check(frame):
            return frames


def _start(url: str, origin: str) -> str:
    body = json.dumps({"name": "Jeanne", "email": "jeanne@exemple.fr", "consent": True})
    request = urllib.request.Request(f"{url}/chat/two-web/start", data=body.encode(),  # noqa: S310
                                     method="POST", headers={
                                         "Content-Type": "application/json", "Origin": origin})
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (loopback)
        return str(json.loads(response.read())["token"])


def _console_post(url: str, path: str, session: str, **fields: str) -> dict[str, Any]:
    """A console action as the page's script sends it: session cookie, CSRF token, JSON."""
    csrf = secrets.token_hex(16)  # a 32-character secret, as Django's cookie holds
    request = urllib.request.Request(  # noqa: S310 (loopback)
        url + path, data=urllib.parse.urlencode(fields).encode(), method="POST", headers={
            "Cookie": f"sessionid={session}; csrftoken={csrf}", "X-CSRFToken": csrf,
            "Origin": url, "Accept": "application/json",
            "Content-Type": "application/x-www-form-urlencoded"})
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (loopback)
        return dict(json.loads(response.read()))


def test_a_visitor_on_one_web_process_and_a_secretary_on_another(tmp_path: Path) -> None:
    db = migrated_database(tmp_path)
    env = base_env(tmp_path, db, REDIS_URL=os.environ["REDIS_URL"],
                   CACHE_KEY_PREFIX="two-web-" + secrets.token_hex(4))
    with running_stack(tmp_path, env) as stack, \
            second_web(stack.env, tmp_path / "web-b.log") as web_b:
        web_a = stack.url
        origin = web_a  # the client's site, allowed for the visitor
        out = manage(env, "shell", "-c", SETUP.replace("{origin}", origin))
        cookie = next(line.split("=", 1)[1] for line in out.splitlines()
                      if line.startswith("SESSION="))
        ws_a = web_a.replace("http://", "ws://")
        ws_b = web_b.replace("http://", "ws://")
        with connect(f"{ws_b}/ws/chat/agent/", open_timeout=10, additional_headers={
                "Cookie": f"sessionid={cookie}", "Origin": web_b}) as agent:
            assert json.loads(agent.recv(timeout=10))["type"] == "hello"  # seated, on B
            token = _start(web_a, origin)
            with connect(f"{ws_a}/ws/chat/visitor/{token}/", open_timeout=10,
                         additional_headers={"Origin": origin}) as visitor:
                assert json.loads(visitor.recv(timeout=10))["type"] == "hello"
                visitor.send(json.dumps({"type": "message", "client_id": "v1",
                                         "body": "Je voudrais parler à un conseiller"}))
                _frames_until(visitor, lambda f: f.get("status") == "attente")
                # A → B: the queue change written by A wakes the console's socket on B.
                _frames_until(agent, lambda f: f["type"] == "queue")
                chat = int(next(line.split("=", 1)[1] for line in manage(
                    env, "shell", "-c", CHAT_ID).splitlines() if line.startswith("CHAT=")))
                agent.send(json.dumps({"type": "watch", "chat": chat, "after": 0}))
                _frames_until(agent, lambda f: f["type"] == "message"
                              and f["message"]["who"] == "visitor")
                # B takes the chat and answers over its HTTP console actions …
                assert _console_post(web_b, f"/app/chats/{chat}/prendre/", cookie)["ok"]
                reply = _console_post(web_b, f"/app/chats/{chat}/repondre/", cookie,
                                      body="Bonjour, ici le process B.")
                # … and the visitor on A gets it (B → A, through Redis).
                got = _frames_until(visitor, lambda f: f["type"] == "message"
                                    and f["message"]["who"] == "agent")
                assert got[-1]["message"]["id"] == reply["id"]
                assert got[-1]["message"]["text"].startswith("Bonjour, ici le process B.")
                # The visitor answers on A: B's console socket shows it (A → B).
                visitor.send(json.dumps({"type": "message", "client_id": "v2",
                                         "body": "Merci, j'ai une question."}))
                seen = _frames_until(agent, lambda f: f["type"] == "message"
                                     and f["message"]["who"] == "visitor"
                                     and f["message"]["text"] == "Merci, j'ai une question.")
                assert seen[-1]["chat"] == chat
