"""{{ cents|eur }} → "1 234,56 €" (or "€1,234.56" in English); {{ cents|ttc:rate }}."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import get_language

from permanence.core.money import format_eur, ttc_cents

register = template.Library()


@register.filter
def eur(cents: Any) -> str:
    if cents is None or cents == "":
        return ""
    return format_eur(int(cents), lang=get_language() or "fr")


@register.filter
def ttc(cents: Any, rate: Any) -> int:
    return ttc_cents(int(cents), rate)
