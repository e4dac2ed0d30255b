"""Live means live in the embedded default: a mail taken by the gateway process reaches a
browser connected to the web process, both started by `manage.py runstack` as `make demo` does
(separate processes, one SQLite file, no Redis: the gateway relays its pushes to the web
process, see core/live_layer.py). With REDIS_URL set, the same journey runs over Redis too.
The latency itself is measured by `make bench BENCH=live`."""

from __future__ import annotations

import json
import os
import smtplib
import time
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import connect

from testkit.stack import agent_session, base_env, migrated_database, running_stack

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc"), reason="needs Linux /proc")

ADDRESS = "accueil@cabinet-live.test"


def _mail(subject: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Jean Patient <jean@exemple.fr>"
    msg["To"] = ADDRESS
    msg["Subject"] = subject
    msg.set_content("Bonjour, je voudrais un rendez-vous.")
    return msg


def _next_event(ws: Any, kind: str, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        assert left > 0, f"no {kind} event within {timeout} s"
        event = json.loads(ws.recv(timeout=left))
        if event.get("type") == kind:
            return event


def _journey(tmp_path: Path, **extra_env: str) -> None:
    db = migrated_database(tmp_path)
    env = base_env(tmp_path, db, **extra_env)
    session = agent_session(env, ADDRESS)
    with running_stack(tmp_path, env) as stack:
        headers = {"Cookie": f"sessionid={session}", "Origin": stack.url}
        with connect(f"ws://127.0.0.1:{stack.port}/ws/inbox/", additional_headers=headers,
                     open_timeout=10) as ws:
            time.sleep(0.2)  # the consumer joins its group right after the handshake
            with smtplib.SMTP("127.0.0.1", stack.smtp_port, timeout=10) as smtp:
                smtp.send_message(_mail("Rendez-vous mardi"))
            event = _next_event(ws, "inbox.changed", timeout=10)
            assert event["reason"] == "created"
            assert isinstance(event["conversation"], int)


def test_a_mail_to_the_gateway_process_reaches_the_browser_on_the_web_process(
        tmp_path: Path) -> None:
    _journey(tmp_path)


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="REDIS_URL not set")
def test_the_same_over_redis(tmp_path: Path) -> None:
    _journey(tmp_path, REDIS_URL=os.environ.get("REDIS_URL", ""))
