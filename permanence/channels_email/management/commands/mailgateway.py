"""`python manage.py mailgateway [--lmtp] [--host H] [--port P]`: the inbound mail gateway.

SMTP by default (direct delivery, tests, small set-ups); `--lmtp` when a real MTA such as
Postfix receives the mail from the Internet and hands it over (see the README).
"""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from permanence.channels_email.gateway import GatewayController


class Command(BaseCommand):
    help = "Passerelle de réception des e-mails (SMTP, ou LMTP derrière Postfix)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=settings.MAILGATEWAY_HOST,
                            help="Adresse d'écoute (défaut : MAILGATEWAY_HOST).")
        parser.add_argument("--port", type=int, default=settings.MAILGATEWAY_PORT,
                            help="Port d'écoute (défaut : MAILGATEWAY_PORT).")
        parser.add_argument("--lmtp", action="store_true",
                            help="Parler LMTP (livraison par Postfix) au lieu de SMTP.")

    def handle(self, *args: Any, **options: Any) -> None:
        controller = GatewayController(host=options["host"], port=options["port"],
                                       lmtp=options["lmtp"])
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
