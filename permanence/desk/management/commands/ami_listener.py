"""`manage.py ami_listener`: connects to the Asterisk Manager Interface (AMI_HOST, AMI_PORT,
AMI_USERNAME, AMI_SECRET), logs in, and turns each call event into a generic event
(desk.adapters.asterisk), stored and processed like the webhook's. Reconnects after 1, 2, 4…
s (at most 30) when the connection drops. `--replay FILE` reads a recorded AMI stream instead
(tests, troubleshooting)."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from permanence.core.errors import DomainError
from permanence.desk.adapters.asterisk import AmiMapper, parse_stream
from permanence.desk.calls import event_parse, event_receive

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Écoute l'AMI d'Asterisk et enregistre les événements d'appel."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--replay", help="fichier d'un flux AMI enregistré à rejouer")

    def handle(self, *args: Any, **options: Any) -> None:
        mapper = AmiMapper()
        if options.get("replay"):
            path = Path(options["replay"])
            if not path.exists():
                raise CommandError(f"fichier introuvable : {path}")
            with path.open(encoding="utf-8", errors="replace") as lines:
                stored = self.consume(mapper, lines)
            self.stdout.write(f"{stored} événement(s) d'appel enregistré(s).")
            return
        if not settings.AMI_USERNAME:
            raise CommandError("AMI_USERNAME et AMI_SECRET ne sont pas configurés.")
        delay = 1.0
        while True:
            try:
                self.consume(mapper, self._connect())
                delay = 1.0
            except OSError as exc:
                logger.warning("AMI %s:%s: %s; retrying in %.0f s", settings.AMI_HOST,
                               settings.AMI_PORT, exc, delay)
            time.sleep(delay)
            delay = min(delay * 2, 30)

    def consume(self, mapper: AmiMapper, lines: Iterable[str]) -> int:
        stored = 0
        for block in parse_stream(lines):
            generic = mapper.map(block)
            if generic is None:
                continue
            try:
                received = event_receive(event_parse(generic),
                                         payload={**generic, "ami": block}, source="asterisk")
            except DomainError as exc:  # a malformed event is logged, the stream goes on
                logger.warning("AMI event %s refused: %s", block.get("Event"), exc.as_json())
                continue
            stored += int(received.created)
        return stored

    def _connect(self) -> Iterator[str]:
        sock = socket.create_connection((settings.AMI_HOST, settings.AMI_PORT), timeout=30)
        sock.settimeout(None)
        login = (f"Action: Login\r\nUsername: {settings.AMI_USERNAME}\r\n"
                 f"Secret: {settings.AMI_SECRET}\r\nEvents: call,dialplan\r\n\r\n")
        sock.sendall(login.encode())
        with sock, sock.makefile("r", encoding="utf-8", errors="replace", newline="") as f:
            yield from f
