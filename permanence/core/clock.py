"""The one place that tells the time. Tests freeze it with `clock.frozen(...)`."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime

from django.utils import timezone

_frozen: datetime | None = None


def now() -> datetime:
    """Aware UTC datetime; every business rule asks this, never datetime.now()."""
    return _frozen if _frozen is not None else timezone.now()


@contextlib.contextmanager
def frozen(at: datetime) -> Iterator[None]:
    global _frozen  # noqa: PLW0603 (the one process-wide clock override, for tests)
    if at.tzinfo is None:
        raise ValueError("frozen() needs an aware datetime")
    previous, _frozen = _frozen, at
    try:
        yield
    finally:
        _frozen = previous
