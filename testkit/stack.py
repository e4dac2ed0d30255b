"""The real process stack (`manage.py runstack`, as `make demo` runs it) on a throw-away SQLite
file, for tests and benchmarks that need separate processes: a migrated database, free ports,
a logged-in staff user's session, the stack started and stopped.
"""

from __future__ import annotations

import os
import shutil
import signal
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
_TEMPLATE: list[Path] = []

# What the children may not inherit from the test run: they read their settings from here.
_DROPPED = ("DATABASE_URL", "REDIS_URL", "LIVE_RELAY_URL", "SITE_URL", "PORT", "HOST",
            "MAILGATEWAY_PORT", "MAILGATEWAY_HOST", "STRIPE_STANDIN_PORT", "STRIPE_API_BASE",
            "STRIPE_WEBHOOK_SECRET", "STRIPE_SECRET_KEY", "TASKS_BACKEND", "EMAIL_BACKEND",
            "PERMANENCE_VAR_DIR", "PERMANENCE_TEST_CLOCK_SHIFT_DAYS", "MAILGATEWAY_PROCESSES",
            "EINVOICING_STANDIN_PORT", "EINVOICING_PLATFORM_URL", "EINVOICING_PLATFORM_TOKEN")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def base_env(var_dir: Path, db: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _DROPPED}
    env.update({
        "DJANGO_SETTINGS_MODULE": "permanence.settings",
        "DATABASE_URL": f"sqlite:///{db}",
        "PERMANENCE_VAR_DIR": str(var_dir),
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(var_dir / "mails"),
        "LOG_LEVEL": "WARNING",
        **extra,
    })
    return env


def manage(env: dict[str, str], *args: str, timeout: float = 180) -> str:
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env,  # noqa: S603
                          capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def migrated_database(var_dir: Path) -> Path:
    """A fresh, migrated SQLite file in var_dir (migrated once per test session, then copied)."""
    if not _TEMPLATE:
        template_dir = Path(tempfile.mkdtemp(prefix="permanence-stack-"))
        template = template_dir / "template.sqlite3"
        manage(base_env(template_dir, template), "migrate", "--noinput", "-v", "0")
        _TEMPLATE.append(template)
    db = var_dir / "stack.sqlite3"
    var_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(_TEMPLATE[0], db)
    return db


SETUP = """
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from permanence.accounts.models import ClientAccount, ContactChannel, User
account, _ = ClientAccount.objects.get_or_create(slug="stack-live", defaults={
    "name": "Cabinet Live", "status": "actif"})
ContactChannel.objects.get_or_create(value="{address}", defaults={"account": account,
                                                                  "kind": "email"})
user = User.objects.filter(email="agent-live@permanence.test").first() or \\
    User.objects.create_user("agent-live@permanence.test", "Mot-de-passe-42!", role="agent",
                             full_name="Agent Live")
user.assigned_accounts.add(account)
session = SessionStore()
session[SESSION_KEY] = str(user.pk)
session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
session[HASH_SESSION_KEY] = user.get_session_auth_hash()
session.create()
print("SESSION=" + session.session_key)
"""


def agent_session(env: dict[str, str], address: str) -> str:
    """An agent assigned to an account whose inbound address is `address`; its session key."""
    out = manage(env, "shell", "-c", SETUP.replace("{address}", address))
    return next(line.split("=", 1)[1] for line in out.splitlines() if line.startswith("SESSION="))


@dataclass
class Stack:
    proc: subprocess.Popen[str]
    env: dict[str, str]
    port: int
    smtp_port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def wait_until(check: Any, timeout: float, what: str, stack: Stack | None = None) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            result = check()
        except OSError:
            result = None
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}"
                         + (f"\n--- runstack output ---\n{stack.output()}" if stack else ""))


def _web_up(url: str) -> bool:
    with urllib.request.urlopen(url + "/healthz", timeout=2) as response:  # noqa: S310 (loopback)
        return bool(response.status == 200)


def _smtp_up(port: int) -> bool:
    with smtplib.SMTP("127.0.0.1", port, timeout=2) as smtp:
        return bool(smtp.noop()[0] == 250)


@contextmanager
def running_stack(var_dir: Path, env: dict[str, str], *, timeout: float = 60) -> Iterator[Stack]:
    """`manage.py runstack` on free ports; stopped (SIGTERM) on exit."""
    port, smtp_port = free_port(), free_port()
    env = {**env, "PORT": str(port), "MAILGATEWAY_PORT": str(smtp_port),
           "STRIPE_STANDIN_PORT": str(free_port()), "EINVOICING_STANDIN_PORT": str(free_port())}
    log = var_dir / "runstack.log"
    with log.open("w") as out:
        proc = subprocess.Popen(  # noqa: S603
            [sys.executable, "-u", "manage.py", "runstack", "--port", str(port)], cwd=ROOT,
            env=env, stdout=out, stderr=subprocess.STDOUT, text=True)
    stack = Stack(proc, env, port, smtp_port, log)
    try:
        wait_until(lambda: _web_up(stack.url), timeout, "the web process", stack)
        wait_until(lambda: _smtp_up(smtp_port), timeout, "the e-mail gateway", stack)
        yield stack
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def child_pids(supervisor_pid: int) -> list[int]:
    """The direct children of a process (Linux /proc)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid …: comm may hold spaces, so split after the last ")".
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == supervisor_pid:
            pids.append(int(entry.name))
    return pids


def alive(pid: int) -> bool:
    """Whether pid runs (a zombie — dead, not yet reaped — counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"
