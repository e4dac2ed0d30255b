from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import template

register = template.Library()


@register.simple_tag
def query_string(base: dict[str, Any], **extra: Any) -> str:
    """The filters as a query string, with `extra` parameters added (empty ones left out).
    Escaped by the template engine like any other output."""
    values = {**base, **{k: v for k, v in extra.items() if v not in ("", None)}}
    return urlencode(values)


@register.simple_tag
def title_of(titles: dict[str, str], key: str) -> str:
    return titles.get(key, key)
