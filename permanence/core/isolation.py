"""Periodic jobs walk many items (conversations, orders, quotes, deliveries, jobs): one
item's failure — bad data, a calendar that never opens, a mail server refusing one address —
must never stop the others. `each_isolated` runs the work of each item in its own savepoint,
logs a failure with the item's key and goes on."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.db import transaction

logger = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass
class Outcome:
    results: list[Any] = field(default_factory=list)  # the work's return values, in order
    failed: list[Any] = field(default_factory=list)  # the keys of the items that failed

    def count(self, value: Any = True) -> int:
        """How many items returned `value` (by default: True)."""
        return sum(1 for r in self.results if r == value)


def each_isolated(items: Iterable[T], work: Callable[[T], Any], *, job: str,
                  key: Callable[[T], Any] = lambda item: item) -> Outcome:
    """`work(item)` for each item, each in a savepoint; a failure is logged (with `job` and
    the item's key) and the loop goes on."""
    outcome = Outcome()
    for item in items:
        try:
            with transaction.atomic():
                outcome.results.append(work(item))
        except Exception:
            outcome.failed.append(key(item))
            logger.exception("%s: item %s failed; skipped, the others go on", job, key(item))
    return outcome
