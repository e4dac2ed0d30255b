"""Demo data: the chat of the Cabinet Martin enabled for the demo's own address, so that its
pretend site (/chat/cabinet-martin/demo/) shows the widget (make demo)."""

from __future__ import annotations

from django.conf import settings

from permanence.accounts.models import ClientAccount

from .models import ChatSettings

DEMO_SLUG = "cabinet-martin"


def seed_livechat() -> str:
    """The demo page's address ("" when the account is missing). Idempotent."""
    account = ClientAccount.objects.filter(slug=DEMO_SLUG).first()
    if account is None:
        return ""
    origins = sorted({"http://127.0.0.1:8000", "http://localhost:8000",
                      settings.SITE_URL.rstrip("/")})
    ChatSettings.objects.update_or_create(account=account, defaults={
        "enabled": True, "allowed_origins": "\n".join(origins),
        "welcome_text": "Bonjour ! Une question sur le cabinet, les rendez-vous ou les "
                        "horaires ? L'assistant vous répond, un conseiller prend le relais.",
        "capacity_per_agent": 3})
    return f"{settings.SITE_URL}/chat/{DEMO_SLUG}/demo/"
