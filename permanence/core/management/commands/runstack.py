"""`make demo`: web (uvicorn, HTTP + websockets), worker, scheduler, the inbound e-mail gateway
(and, in payments test mode, the Stripe stand-in; in e-invoicing test mode, the plateforme
agréée stand-in) in the foreground, supervised.

- Before starting, each port (PORT, MAILGATEWAY_PORT, STRIPE_STANDIN_PORT and
  EINVOICING_STANDIN_PORT in test mode) must be free: otherwise one sentence names the
  variable to change, and the exit code is 1.
- A child that dies is restarted after 1 s, 2 s, 4 s… (at most 30 s); the delay starts again
  from 1 s once the child has stayed up STABLE_AFTER seconds. The others keep serving.
- Children never outlive the supervisor: Ctrl-C (SIGINT) or SIGTERM stops each child's process
  group (SIGTERM, then SIGKILL after 10 s); if the supervisor itself is killed (even SIGKILL),
  Linux sends each child SIGTERM (prctl PR_SET_PDEATHSIG).
- Without REDIS_URL, the processes other than web get LIVE_RELAY_URL (the web process's
  loopback address): their live pushes reach the browsers through it (core/live_layer.py).
- Without SITE_URL, every child gets the one derived from --host/--port (links in e-mails).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import secrets
import signal
import socket
import subprocess  # nosec B404  # starts our own processes, fixed arguments
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

BACKOFF_FIRST = 1.0  # seconds before the first restart of a child that died
BACKOFF_MAX = 30.0
STABLE_AFTER = 60.0  # seconds up after which a child's back-off starts again from BACKOFF_FIRST
STOP_GRACE = 10.0  # seconds between SIGTERM and SIGKILL when stopping
PR_SET_PDEATHSIG = 1


def processes(host: str, port: int) -> dict[str, list[str]]:
    python = sys.executable
    return {
        "web": [python, "-m", "uvicorn", "permanence.asgi:application", "--host", host,
                "--port", str(port), "--no-access-log", "--lifespan", "off"],
        "worker": [python, "manage.py", "worker", "--no-startup-delay", "-v", "0"],
        "scheduler": [python, "manage.py", "scheduler"],
        # Inbound e-mail: SMTP on 127.0.0.1:MAILGATEWAY_PORT (2525 by default).
        "mailgateway": [python, "manage.py", "mailgateway"],
        # Payments test mode (no STRIPE_SECRET_KEY): the local Stripe stand-in. Dev tool: test
        # mode only — through manage.py stripe_standin, the only production code that imports
        # testkit/stripe_standin.py (inside its handle()).
        **({"stripe-standin": [
            python, "manage.py", "stripe_standin", "--port", str(settings.STRIPE_STANDIN_PORT),
            "--webhook-url", f"http://{_loopback(host)}:{port}/api/v1/payments/stripe/webhook",
        ]} if settings.PAYMENTS_TEST_MODE else {}),
        # E-invoicing test mode (no EINVOICING_PLATFORM_URL): the plateforme agréée stand-in
        # (manage.py einvoicing_standin, likewise the only importer of its testkit module).
        **({"einvoicing-standin": [
            python, "manage.py", "einvoicing_standin", "--port",
            str(settings.EINVOICING_STANDIN_PORT),
        ]} if settings.EINVOICING_TEST_MODE else {}),
    }


def _loopback(host: str) -> str:
    if host in ("0.0.0.0", "::", ""):  # noqa: S104 (every interface: reach it on loopback)  # nosec B104
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def site_url(host: str, port: int) -> str:
    return f"http://{_loopback(host)}:{port}"


def child_env(host: str = "127.0.0.1", port: int = 8000) -> dict[str, str]:
    """The children's environment: SITE_URL derived from the host and port unless set; in
    payments test mode, one generated webhook secret shared by the web process (which
    verifies) and the stand-in (which signs)."""
    env = dict(os.environ)
    if not env.get("SITE_URL", "").strip():
        env["SITE_URL"] = site_url(host, port)
    if settings.PAYMENTS_TEST_MODE and not env.get("STRIPE_WEBHOOK_SECRET"):
        env["STRIPE_WEBHOOK_SECRET"] = "whsec_" + secrets.token_hex(16)
    env.pop("LIVE_RELAY_URL", None)  # only the non-web children get it (see env_for)
    return env


def two_factor_line() -> str:
    """One line on the staff two-factor policy (TWO_FACTOR_REQUIRED_ROLES; `make demo`
    sets it empty so that the demo logins work with their password alone)."""
    roles = settings.TWO_FACTOR_REQUIRED_ROLES
    if not roles:
        return ("Two-factor authentication: optional in this demo (TWO_FACTOR_REQUIRED_ROLES "
                "is empty); production requires it for administrators and billing staff.")
    return f"Two-factor authentication: required for the roles {', '.join(roles)}."


def env_for(name: str, env: dict[str, str], host: str, port: int) -> dict[str, str]:
    """Without Redis, the processes other than web relay their live pushes to it."""
    if name == "web" or settings.REDIS_URL:
        return env
    return {**env, "LIVE_RELAY_URL": site_url(host, port)}


def ports_to_check(host: str, port: int) -> list[tuple[str, str, int]]:
    """(variable to change, host, port) of every port the stack listens on."""
    ports = [("PORT", host, port),
             ("MAILGATEWAY_PORT", settings.MAILGATEWAY_HOST, settings.MAILGATEWAY_PORT)]
    if settings.PAYMENTS_TEST_MODE:
        ports.append(("STRIPE_STANDIN_PORT", "127.0.0.1", settings.STRIPE_STANDIN_PORT))
    if settings.EINVOICING_TEST_MODE:
        ports.append(("EINVOICING_STANDIN_PORT", "127.0.0.1", settings.EINVOICING_STANDIN_PORT))
    return ports


def port_is_free(host: str, port: int) -> bool:
    """Whether a server could listen on host:port (as the servers bind: SO_REUSEADDR)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return False
            raise
    return True


def _suggest(host: str, port: int, taken: set[int]) -> int:
    for candidate in range(port + 1, min(port + 200, 65536)):
        if candidate not in taken and port_is_free(host, candidate):
            return candidate
    return port + 1


def busy_port_message(variable: str, host: str, port: int, taken: set[int]) -> str:
    free = _suggest(host, port, taken)
    return f"Le port {port} est déjà utilisé : lancez avec {variable}={free} make demo"


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM when the supervisor dies, however it dies."""
    parent = os.getppid()
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the process-group stop still applies
        return
    if os.getppid() != parent:  # the supervisor died before prctl took effect
        os._exit(1)


@dataclass
class Child:
    name: str
    cmd: list[str]
    env: dict[str, str]
    proc: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    restart_at: float | None = None
    delay: float = BACKOFF_FIRST
    restarts: int = 0
    history: list[int] = field(default_factory=list)  # pids, oldest first

    def start(self) -> None:
        # Own session and process group: the terminal's Ctrl-C reaches the supervisor only,
        # which stops each child with everything it started (killpg).
        self.proc = subprocess.Popen(  # noqa: S603  # nosec B603
            self.cmd, cwd=settings.BASE_DIR, env=self.env, start_new_session=True,
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None)  # noqa: PLW1509 (no thread started yet)
        self.started_at = time.monotonic()
        self.restart_at = None
        self.history.append(self.proc.pid)

    def signal_group(self, sig: int) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, sig)


class Command(BaseCommand):
    help = "Run web, worker, scheduler and e-mail gateway together until Ctrl-C."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))

    def handle(self, *args: Any, host: str, port: int, **options: Any) -> None:
        taken: set[int] = {p for _v, _h, p in ports_to_check(host, port)}
        for variable, bind_host, bind_port in ports_to_check(host, port):
            if not port_is_free(bind_host, bind_port):
                self.stderr.write(busy_port_message(variable, bind_host, bind_port, taken))
                sys.exit(1)

        stopping = False

        def stop(*_: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        env = child_env(host, port)
        children = [Child(name, cmd, env_for(name, env, host, port))
                    for name, cmd in processes(host, port).items()]
        for child in children:
            child.start()
            self.stdout.write(f"started {child.name} (pid {child.proc.pid if child.proc else '?'})")
        self.stdout.write(self.style.SUCCESS(
            f"Permanence is running on http://{host}:{port}/ — inbound e-mail on "
            f"smtp://{settings.MAILGATEWAY_HOST}:{settings.MAILGATEWAY_PORT} — Ctrl-C to stop."))
        if settings.PAYMENTS_TEST_MODE:
            self.stdout.write(f"Payments: test mode (no STRIPE_SECRET_KEY) — Stripe stand-in on "
                              f"http://127.0.0.1:{settings.STRIPE_STANDIN_PORT}/")
        self.stdout.write(two_factor_line())
        if settings.EINVOICING_TEST_MODE:
            self.stdout.write(f"E-invoicing: test mode (no EINVOICING_PLATFORM_URL) — platform "
                              f"stand-in on http://127.0.0.1:{settings.EINVOICING_STANDIN_PORT}/")
        self.stdout.flush()
        try:
            while not stopping:
                self._supervise(children)
                time.sleep(0.2)
        finally:
            self._stop_all(children)
            self.stdout.write("stopped.")

    def _supervise(self, children: list[Child]) -> None:
        now = time.monotonic()
        for child in children:
            if child.restart_at is not None:
                if now >= child.restart_at:
                    child.restarts += 1
                    child.start()
                    self.stdout.write(f"restarted {child.name} (pid "
                                      f"{child.proc.pid if child.proc else '?'})")
                    self.stdout.flush()
                continue
            if child.proc is None or child.proc.poll() is None:
                continue
            if now - child.started_at >= STABLE_AFTER:
                child.delay = BACKOFF_FIRST
            # What the dead child started (a gateway's own processes) goes with it.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.proc.pid, signal.SIGTERM)
            self.stderr.write(f"{child.name} exited with code {child.proc.returncode}; "
                              f"restarting in {child.delay:.0f} s")
            self.stderr.flush()
            child.restart_at = now + child.delay
            child.delay = min(child.delay * 2, BACKOFF_MAX)

    def _stop_all(self, children: list[Child]) -> None:
        for child in children:
            child.signal_group(signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE
        for child in children:
            if child.proc is None:
                continue
            try:
                child.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.signal_group(signal.SIGKILL)
                child.proc.wait()
            # Anything left in its group (a grandchild) goes too.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(child.proc.pid, signal.SIGKILL)
