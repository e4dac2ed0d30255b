"""{% load site_text %}{{ page.body|site_text }}: editable text rendered safely (see text.py)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeString

from permanence.catalog.text import render_text

register = template.Library()


@register.filter
def site_text(body: Any) -> SafeString:
    return render_text(str(body or ""))
