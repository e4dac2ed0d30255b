"""Send a test e-mail to the inbound gateway (the demo's, on MAILGATEWAY_HOST:MAILGATEWAY_PORT).

    python manage.py send_test_mail accueil@cabinet-martin.test
    python manage.py send_test_mail contact@bati-renov.test --subject "Devis salle de bain"
"""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Send a test e-mail to an account's inbound address through the e-mail gateway."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("to", help="inbound address of a client account "
                                       "(make demo prints them)")
        parser.add_argument("--sender", default="Jean Dupont <jean.dupont@exemple.fr>")
        parser.add_argument("--subject", default="Demande de rendez-vous")
        parser.add_argument("--body", default="Bonjour,\n\nPourriez-vous me rappeler pour "
                                              "fixer un rendez-vous ?\n\nJean Dupont")

    def handle(self, *args: Any, **options: Any) -> None:
        host, port = settings.MAILGATEWAY_HOST, settings.MAILGATEWAY_PORT
        message = EmailMessage()
        message["From"], message["To"] = options["sender"], options["to"]
        message["Subject"] = options["subject"]
        message.set_content(options["body"])
        try:
            with smtplib.SMTP(host, port, timeout=10) as smtp:
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            raise CommandError(f"The e-mail gateway at {host}:{port} refused or is not running "
                               f"({exc}); start it with `make demo` or set MAILGATEWAY_PORT."
                               ) from exc
        self.stdout.write(self.style.SUCCESS(f"Sent to {options['to']} through {host}:{port}."))
