"""`manage.py simulate_sms --to <account number> [--from <number>] [--body <text>]`: an SMS
received on an account's number, without a provider (the demo, a try-out). It takes the path
of a provider's inbound webhook after its signature check: stored as an event, then applied
(conversation opened or continued, STOP/START honoured)."""

from __future__ import annotations

import secrets
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from permanence.core.validators import normalise_phone

from ...events import event_process, event_receive
from ...models import EventKind, Provider, SmsEvent


class Command(BaseCommand):
    help = "Simule un SMS reçu sur le numéro d'un compte client."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--to", required=True, help="numéro du compte (ex. 01 80 00 00 01)")
        parser.add_argument("--from", dest="sender", default="06 12 34 56 78",
                            help="numéro de l'expéditeur")
        parser.add_argument("--body", default="Bonjour, pouvez-vous me rappeler ?")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            to, sender = normalise_phone(options["to"]), normalise_phone(options["sender"])
        except Exception as exc:
            raise CommandError(str(exc)) from None
        sid = "SIM" + secrets.token_hex(16)
        payload = {"MessageSid": sid, "From": sender, "To": to, "Body": options["body"]}
        event_receive(provider=Provider.FILE, kind=EventKind.INBOUND, key=sid, payload=payload)
        event = SmsEvent.objects.get(provider=Provider.FILE, event_key=sid)
        outcome = event_process(event.pk)
        self.stdout.write(f"SMS de {sender} vers {to} : {outcome}")
