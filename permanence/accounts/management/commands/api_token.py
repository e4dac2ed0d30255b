from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from permanence.accounts.models import User
from permanence.accounts.services import api_token_create


class Command(BaseCommand):
    help = "Create a personal API token for a user and print it (shown only once)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("email")
        parser.add_argument("--name", default="CLI")

    def handle(self, *args: Any, email: str, name: str, **options: Any) -> None:
        user = User.objects.filter(email__iexact=email, is_active=True).first()
        if user is None:
            raise CommandError(f"No active user with e-mail {email}")
        _token, raw = api_token_create(actor=user, user=user, name=name)
        self.stdout.write(raw)
