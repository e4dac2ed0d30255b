"""{% load payments_tags %}: the "Mode test" banner and the bank transfer instructions, for
the checkout and order pages (shop) and the staff pages."""

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings

from permanence.payments.services import transfer_instructions as instructions

register = template.Library()


@register.simple_tag
def payments_test_mode() -> bool:
    """{% payments_test_mode as test_mode %}: True when payments go to the local stand-in."""
    return bool(getattr(settings, "PAYMENTS_TEST_MODE", False))


@register.inclusion_tag("payments/partials/test_mode.html")
def payments_test_banner() -> dict[str, Any]:
    return {"test_mode": payments_test_mode()}


@register.inclusion_tag("payments/partials/transfer_instructions.html")
def transfer_instructions(order: Any) -> dict[str, Any]:
    """{% transfer_instructions order %}: beneficiary, IBAN, amount and reference."""
    return {"i": instructions(order), "order": order}
