"""`python manage.py mailgateway [--lmtp] [--host H] [--port P]`: the inbound mail gateway.

SMTP by default (direct delivery, tests, small set-ups); `--lmtp` when a real MTA such as
Postfix receives the mail from the Internet and hands it over (see the README).
"""

from __future__ import annotations

import argparse
import signal
import subprocess  # nosec B404  # starts our own gateway processes
import sys
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from permanence.channels_email.gateway import GatewayController, keep_connections


class Command(BaseCommand):
    help = "Passerelle de réception des e-mails (SMTP, ou LMTP derrière Postfix)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=settings.MAILGATEWAY_HOST,
                            help="Adresse d'écoute (défaut : MAILGATEWAY_HOST).")
        parser.add_argument("--port", type=int, default=settings.MAILGATEWAY_PORT,
                            help="Port d'écoute (défaut : MAILGATEWAY_PORT).")
        parser.add_argument("--lmtp", action="store_true",
                            help="Parler LMTP (livraison par Postfix) au lieu de SMTP.")
        parser.add_argument("--processes", type=int, default=settings.MAILGATEWAY_PROCESSES,
                            help="Processus qui partagent le port (SO_REUSEPORT) ; un par "
                                 "cœur pour les gros volumes (défaut : MAILGATEWAY_PROCESSES).")
        parser.add_argument("--reuse-port", action="store_true", help=argparse.SUPPRESS)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["processes"] > 1:
            return self._supervise(options)
        keep_connections()
        controller = GatewayController(host=options["host"], port=options["port"],
                                       lmtp=options["lmtp"], reuse_port=options["reuse_port"])
        stop = threading.Event()

        def request_stop(signum: int, frame: Any) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
        controller.start()
        protocol = "LMTP" if options["lmtp"] else "SMTP"
        self.stdout.write(f"Passerelle {protocol} à l'écoute sur "
                          f"{controller.hostname}:{controller.port} "
                          f"(max {settings.MAILGATEWAY_MAX_BYTES} octets).")
        try:
            stop.wait()
        finally:
            # Stops accepting, cancels sessions in flight: a session cut before its "250"
            # is retried by the sender; one already answered has committed.
            controller.stop()
            self.stdout.write("Passerelle arrêtée.")

    def _supervise(self, options: dict[str, Any]) -> None:
        """Start N single-process gateways on the same port; stop them all together."""
        command = [sys.executable, str(settings.BASE_DIR / "manage.py"), "mailgateway",
                   "--processes", "1",
                   "--reuse-port", "--host", options["host"], "--port", str(options["port"])]
        if options["lmtp"]:
            command.append("--lmtp")
        children = [subprocess.Popen(command) for _ in range(options["processes"])]  # noqa: S603  # nosec B603
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        try:
            while not stop.wait(0.5):
                if any(child.poll() is not None for child in children):
                    self.stderr.write("Un processus de la passerelle s'est arrêté.")
                    break
        finally:
            for child in children:
                if child.poll() is None:
                    child.terminate()
            for child in children:
                try:
                    child.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    child.kill()
