"""The chat through the real process stack (`manage.py runstack`, as `make demo` runs it), with
a real websocket client (the `websockets` library): a visitor on an allowed site and a
secretary's session. The secretary's answers are written by another process (a `manage.py
shell`, as the worker or a second web process would): they reach the visitor through the
cross-process live path (the loopback relay without Redis, Redis with REDIS_URL). A
reconnection resumes after the last id seen, without loss or duplicate; another origin is
refused at the handshake."""

from __future__ import annotations

import json
import os
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from testkit.stack import base_env, manage, migrated_database, running_stack

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc"), reason="needs Linux /proc")

SETUP = """
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from permanence.accounts.models import ClientAccount, User
from permanence.calendars.models import BusinessCalendar
from permanence.livechat.models import ChatSettings
always = {d: [["00:00", "23:59"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
calendar = BusinessCalendar.objects.create(name="Toujours", weekly=always, holidays="")
account = ClientAccount.objects.create(slug="stack-chat", name="Cabinet Chat", status="actif",
                                       calendar=calendar)
ChatSettings.objects.create(account=account, enabled=True, allowed_origins="{origin}")
user = User.objects.create_user("agent-chat@permanence.test", "Mot-de-passe-42!", role="agent",
                                full_name="Agent Chat")
user.assigned_accounts.add(account)
session = SessionStore()
session[SESSION_KEY] = str(user.pk)
session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
session[HASH_SESSION_KEY] = user.get_session_auth_hash()
session.create()
print("SESSION=" + session.session_key)
"""

ACT = """
from permanence.accounts.models import User
from permanence.livechat import services
from permanence.livechat.models import ChatSession
from permanence.core.live_layer import RelayChannelLayer
from channels.layers import get_channel_layer
user = User.objects.get(email="agent-chat@permanence.test")
chat = ChatSession.objects.get()
if chat.status == "attente":
    services.chat_accept(actor=user, session=chat)
    chat.refresh_from_db()
services.chat_reply(actor=user, session=chat, body="{body}")
layer = get_channel_layer()
if isinstance(layer, RelayChannelLayer):
    layer.wait_relayed()
"""


def _frames_until(ws: Any, check: Any, timeout: float = 10) -> list[dict[str, Any]]:
    frames: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        assert left > 0, f"timed out; got {frames}"
        frame = json.loads(ws.recv(timeout=left))
        frames.append(frame)
        if check(frame):
            return frames


def _drain(ws: Any, quiet: float = 0.5) -> list[dict[str, Any]]:
    frames = []
    while True:
        try:
            frames.append(json.loads(ws.recv(timeout=quiet)))
        except TimeoutError:
            return frames


def _start(url: str, origin: str) -> str:
    body = json.dumps({"name": "Jeanne", "email": "jeanne@exemple.fr",
                       "consent": True}).encode()
    request = urllib.request.Request(f"{url}/chat/stack-chat/start", data=body, method="POST",  # noqa: S310
                                     headers={"Content-Type": "application/json",
                                              "Origin": origin})
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (loopback)
        assert response.headers["Access-Control-Allow-Origin"] == origin
        return str(json.loads(response.read())["token"])


def _journey(tmp_path: Path, **extra_env: str) -> None:
    db = migrated_database(tmp_path)
    env = base_env(tmp_path, db, **extra_env)
    with running_stack(tmp_path, env) as stack:
        origin = stack.url
        out = manage(env, "shell", "-c", SETUP.replace("{origin}", origin))
        cookie = next(line.split("=", 1)[1] for line in out.splitlines()
                      if line.startswith("SESSION="))
        other = {**env, "LIVE_RELAY_URL": stack.url}  # as runstack gives its other processes
        ws_base = f"ws://127.0.0.1:{stack.port}"
        with connect(f"{ws_base}/ws/chat/agent/", open_timeout=10, additional_headers={
                "Cookie": f"sessionid={cookie}", "Origin": origin}) as agent:
            assert json.loads(agent.recv(timeout=10))["type"] == "hello"  # seated: online
            token = _start(stack.url, origin)
            with pytest.raises(InvalidStatus):
                connect(f"{ws_base}/ws/chat/visitor/{token}/", open_timeout=10,
                        additional_headers={"Origin": "https://evil.example"})
            visitor_url = f"{ws_base}/ws/chat/visitor/{token}/"
            with connect(visitor_url, open_timeout=10,
                         additional_headers={"Origin": origin}) as visitor:
                visitor.send(json.dumps({"type": "message", "client_id": "r1",
                                         "body": "Je voudrais parler à un conseiller"}))
                frames = _frames_until(visitor, lambda f: f.get("status") == "attente")
                seen = [f["message"]["id"] for f in frames + _drain(visitor)
                        if f["type"] == "message"]
                # Another process takes the chat and answers: pushed across processes.
                manage(other, "shell", "-c", ACT.replace("{body}", "Bonjour, ici Agent Chat."))
                frames = _frames_until(visitor, lambda f: f["type"] == "message"
                                       and f["message"]["who"] == "agent")
                seen += [f["message"]["id"] for f in frames if f["type"] == "message"]
                seen += [f["message"]["id"] for f in _drain(visitor) if f["type"] == "message"]
            # Away: another answer meanwhile; back with the last id seen.
            manage(other, "shell", "-c", ACT.replace("{body}", "Toujours là ?"))
            with connect(f"{visitor_url}?after={max(seen)}", open_timeout=10,
                         additional_headers={"Origin": origin}) as visitor:
                frames = _frames_until(visitor, lambda f: f["type"] == "message"
                                       and f["message"]["text"].startswith("Toujours là ?"))
                resumed = [f["message"]["id"] for f in frames + _drain(visitor)
                           if f["type"] == "message"]
            assert resumed and min(resumed) > max(seen)
            assert len(resumed) == len(set(resumed))
            # Nothing lost: what the visitor got is every message the visitor may see.
            with urllib.request.urlopen(urllib.request.Request(  # noqa: S310 (loopback)
                    f"{stack.url}/chat/api/{token}/messages?after=0",
                    headers={"Origin": origin}), timeout=10) as response:
                every = [m["id"] for m in json.loads(response.read())["messages"]]
            assert sorted(seen + resumed) == every


def test_a_visitor_and_a_secretary_chat_through_the_real_stack(tmp_path: Path) -> None:
    _journey(tmp_path)


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="REDIS_URL not set")
def test_the_same_over_redis(tmp_path: Path) -> None:
    _journey(tmp_path, REDIS_URL=os.environ.get("REDIS_URL", ""))
