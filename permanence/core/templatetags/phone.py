"""{{ number|phone }} → "01 45 00 00 04" (stored "+33145000004"); {{ number|tel }} → the
E.164 form for tel: links."""

from __future__ import annotations

from typing import Any

from django import template
from django.core.exceptions import ValidationError

from permanence.core.validators import normalise_phone, phone_display

register = template.Library()


@register.filter
def phone(value: Any) -> str:
    return phone_display(str(value)) if value else ""


@register.filter
def tel(value: Any) -> str:
    if not value:
        return ""
    try:
        return normalise_phone(str(value))
    except ValidationError:
        return "".join(ch for ch in str(value) if ch.isdigit() or ch == "+")
