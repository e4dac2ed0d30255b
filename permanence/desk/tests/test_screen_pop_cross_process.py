"""The screen pop across real processes, as `make demo` runs them: `manage.py runstack` (web,
worker, scheduler, gateway; no Redis), an agent's websocket on the web process, and
`manage.py simulate_call` — another process — POSTing the signed events over HTTP. The agent's
socket receives « Appel entrant — <compte> — <numéro> »; the call ends abandoned with a call
back."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import connect

from testkit.stack import ROOT, base_env, manage, migrated_database, running_stack

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc"), reason="needs Linux /proc")

NUMBER = "+33145000004"

SETUP = """
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from permanence.accounts.models import ClientAccount, ContactChannel, User
account = ClientAccount.objects.create(slug="cabinet-pop", name="Cabinet Pop", status="actif")
ContactChannel.objects.create(value="+33145000004", account=account, kind="phone")
user = User.objects.create_user("agent-pop@permanence.test", "Mot-de-passe-42!", role="agent",
                                full_name="Agent Pop")
user.assigned_accounts.add(account)
session = SessionStore()
session[SESSION_KEY] = str(user.pk)
session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
session[HASH_SESSION_KEY] = user.get_session_auth_hash()
session.create()
print("SESSION=" + session.session_key)
"""

CHECK = """
from permanence.desk.models import Call
call = Call.objects.get()
print("CALL=%s|%s|%s|%s" % (call.state, call.outcome, call.account.name,
                            call.callback.status))
"""


def _next(ws: Any, kind: str, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        assert left > 0, f"no {kind} within {timeout} s"
        message = json.loads(ws.recv(timeout=left))
        if message.get("type") == kind:
            return message


def test_simulate_call_pops_the_agents_screen_on_the_web_process(tmp_path: Path) -> None:
    db = migrated_database(tmp_path)
    env = base_env(tmp_path, db)
    out = manage(env, "shell", "-c", SETUP)
    session = next(line.split("=", 1)[1] for line in out.splitlines()
                   if line.startswith("SESSION="))
    with running_stack(tmp_path, env) as stack:
        headers = {"Cookie": f"sessionid={session}", "Origin": stack.url}
        with connect(f"ws://127.0.0.1:{stack.port}/ws/desk/", additional_headers=headers,
                     open_timeout=10) as ws:
            time.sleep(0.2)  # the consumer joins its groups right after the handshake
            done = subprocess.run(  # noqa: S603
                [sys.executable, "manage.py", "simulate_call", "--to", "01 45 00 00 04",
                 "--from", "+33612345678", "--abandon", "--url", stack.url],
                cwd=ROOT, env=stack.env, capture_output=True, text=True, timeout=60,
                check=False)
            assert done.returncode == 0, done.stdout + done.stderr
            assert "ringing" in done.stdout and "→ 200" in done.stdout
            pop = _next(ws, "call.ringing", timeout=10)
        assert pop["text"] == "Appel entrant — Cabinet Pop — 06 12 34 56 78"
        assert pop["url"] == f"/app/poste/appels/{pop['call']}/"
        checked = manage(stack.env, "shell", "-c", CHECK)
    assert "CALL=ended|abandoned|Cabinet Pop|a_faire" in checked
