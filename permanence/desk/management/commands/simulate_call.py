"""`manage.py simulate_call --to <number> [--from <number>] [--abandon]`: the signed events a
PBX would send for one inbound call, POSTed over HTTP to the running server's generic webhook
(SITE_URL, or --url), as a telephony system would. Prints each event and the answer.

The events follow each other --pace seconds apart (1 by default; a real call's take tens of
seconds): sent all at once, a call would ring and end before the server had processed its
ringing, and nobody's screen would open for a call already over."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from permanence.core.validators import normalise_phone
from permanence.desk.calls import simulated_events
from permanence.desk.signature import HEADER, signature_header

WEBHOOK_PATH = "/api/v1/telephony/events"


class Command(BaseCommand):
    help = "Simule un appel entrant : envoie au serveur les événements signés d'un standard."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--to", required=True, help="numéro appelé (celui d'un compte)")
        parser.add_argument("--from", dest="from_number", default="+33612345678",
                            help="numéro de l'appelant (ou « anonymous »)")
        parser.add_argument("--abandon", action="store_true",
                            help="l'appelant raccroche avant qu'on décroche")
        parser.add_argument("--agent", default="", help="e-mail de l'agent qui décroche")
        parser.add_argument("--url", default="", help="adresse du serveur (défaut : SITE_URL)")
        parser.add_argument("--pace", type=float, default=1.0,
                            help="secondes entre deux événements (défaut : 1)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            to = normalise_phone(options["to"])
            caller = options["from_number"]
            if caller.lower() != "anonymous":
                caller = normalise_phone(caller)
        except ValidationError as exc:
            raise CommandError(exc.messages[0]) from None
        base = (options["url"] or settings.SITE_URL).rstrip("/")
        events = simulated_events(to=to, from_number=caller, abandon=options["abandon"],
                                  agent=options["agent"])
        self.stdout.write(f"Appel simulé {events[0]['call_id']} : {caller} → {to} "
                          f"({'abandonné' if options['abandon'] else 'décroché'}) "
                          f"vers {base}{WEBHOOK_PATH}")
        for i, event in enumerate(events):
            if i:
                time.sleep(max(0.0, options["pace"]))
            status, answer = self._post(base + WEBHOOK_PATH, event)
            self.stdout.write(f"  {event['event']:<9} {event['occurred_at']}  → {status} "
                              f"{answer}")
            if status != 200:
                raise CommandError(f"le serveur a refusé l'événement {event['event']} "
                                   f"({status}) : {answer}")
        self.stdout.write(self.style.SUCCESS("Terminé."))

    def _post(self, url: str, event: dict[str, Any]) -> tuple[int, str]:
        body = json.dumps(event).encode()
        request = urllib.request.Request(url, data=body, method="POST", headers={  # noqa: S310
            "Content-Type": "application/json",
            HEADER: signature_header(body, settings.TELEPHONY_WEBHOOK_SECRET)})
        try:
            with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310  # nosec B310
                return response.status, response.read().decode(errors="replace")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(errors="replace")
        except (urllib.error.URLError, OSError) as exc:
            raise CommandError(f"serveur injoignable à {url} : {exc}") from None
