"""Provider webhooks' bodies, read strictly and made storable (found by the property tests of
the SMS and Stripe webhooks, issue 15).

- `loads`: JSON as RFC 8259 defines it — no NaN or Infinity (Python's json accepts them;
  neither SQLite's JSON_VALID nor PostgreSQL's jsonb does: the row was refused, and the
  event acknowledged as a duplicate without being stored) and no lone surrogate (valid
  JSON escapes, but not text: PostgreSQL refuses them, and encoding one raised).
- `storable`: a NUL character, which PostgreSQL's text and jsonb cannot hold, replaced by
  U+FFFD — the event is kept, with the mark of the character it could not keep."""

from __future__ import annotations

import json
from typing import Any

NUL = "\x00"
REPLACEMENT = "\ufffd"


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def loads(body: bytes | str) -> Any:
    """The JSON value of `body`; ValueError when it is not JSON (UnicodeDecodeError, a
    ValueError, for bytes that are not UTF-8)."""
    value = json.loads(body, parse_constant=_no_constant)
    # A lone surrogate ("\ud800") cannot be written as UTF-8: refused like bad bytes.
    json.dumps(value, ensure_ascii=False).encode()
    return value


def storable(value: Any) -> Any:
    """`value` with every NUL in its strings (keys included) replaced by U+FFFD."""
    if isinstance(value, str):
        return value.replace(NUL, REPLACEMENT) if NUL in value else value
    if isinstance(value, dict):
        return {storable(k): storable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [storable(v) for v in value]
    return value
