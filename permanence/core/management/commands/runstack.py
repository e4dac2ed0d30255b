"""`make demo`: web (uvicorn, HTTP + websockets), worker, scheduler and the inbound e-mail
gateway in the foreground.

Ctrl-C (SIGINT) or SIGTERM stops all of them; if one dies, the others are stopped too.
Later capabilities add their processes (e.g. the e-mail gateway) to PROCESSES.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand


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
    }


def _loopback(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104


def child_env() -> dict[str, str]:
    """The children's environment; in payments test mode, one generated webhook secret shared
    by the web process (which verifies) and the stand-in (which signs)."""
    env = dict(os.environ)
    if settings.PAYMENTS_TEST_MODE and not env.get("STRIPE_WEBHOOK_SECRET"):
        env["STRIPE_WEBHOOK_SECRET"] = "whsec_" + secrets.token_hex(16)
    return env


class Command(BaseCommand):
    help = "Run web, worker, scheduler and e-mail gateway together until Ctrl-C."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))

    def handle(self, *args: Any, host: str, port: int, **options: Any) -> None:
        children: dict[str, subprocess.Popen[bytes]] = {}
        stopping = False

        def stop(*_: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        env = child_env()
        for name, cmd in processes(host, port).items():
            # Own process group: the terminal's Ctrl-C reaches us only; we stop them in order.
            children[name] = subprocess.Popen(cmd, cwd=settings.BASE_DIR,  # noqa: S603
                                              start_new_session=True, env=env)
            self.stdout.write(f"started {name} (pid {children[name].pid})")
        self.stdout.write(self.style.SUCCESS(
            f"Permanence is running on http://{host}:{port}/ — inbound e-mail on "
            f"smtp://{settings.MAILGATEWAY_HOST}:{settings.MAILGATEWAY_PORT} — Ctrl-C to stop."))
        if settings.PAYMENTS_TEST_MODE:
            self.stdout.write(f"Payments: test mode (no STRIPE_SECRET_KEY) — Stripe stand-in on "
                              f"http://127.0.0.1:{settings.STRIPE_STANDIN_PORT}/")
        try:
            while not stopping:
                for name, child in children.items():
                    if child.poll() is not None:
                        self.stderr.write(f"{name} exited with code {child.returncode}")
                        stopping = True
                time.sleep(0.3)
        finally:
            for child in children.values():
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 10
            for child in children.values():
                try:
                    child.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    child.kill()
            self.stdout.write("stopped.")
