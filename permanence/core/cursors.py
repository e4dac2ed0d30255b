"""Keyset pagination cursors: a JSON value in URL-safe base64, padding stripped.

Opaque to API clients, yet anyone can forge one: whoever decodes a cursor checks every value
it carries (the helpers below) and answers "invalid cursor" rather than a 500.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

MAX_BIGINT = 2**63  # a PostgreSQL bigint: anything larger fails in the query, not here


class InvalidCursor(ValueError):
    """Not base64 of a JSON value."""


def cursor_encode(value: Any) -> str:
    raw = json.dumps(value, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def cursor_decode(cursor: str) -> Any:
    """The JSON value a cursor carries, unchecked; InvalidCursor if there is none."""
    try:
        text = cursor + "=" * (-len(cursor) % 4)
        return json.loads(base64.urlsafe_b64decode(text.encode("ascii")))
    except (ValueError, UnicodeError):
        raise InvalidCursor(cursor) from None


def aware_datetime(value: object) -> datetime | None:
    """An ISO 8601 string with an offset as a datetime; None for anything else."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def is_bigint(value: object, *, minimum: int = 0) -> bool:
    """An int (not a bool) from `minimum` up to a bigint's limit."""
    return isinstance(value, int) and not isinstance(value, bool) and minimum <= value < MAX_BIGINT
