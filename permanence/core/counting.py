"""Counters that stay cheap on large tables: each count stops at `cap + 1` rows (an index
range walk, never a full count), several of them in ONE query, and a label that says
"1 000+" beyond the cap instead of pretending to an exact figure; a paginator that counts the
same way."""

from __future__ import annotations

from functools import cached_property
from typing import Any, TypeVar

from django.core.paginator import Paginator
from django.db import connection
from django.db.models import QuerySet

_T = TypeVar("_T")

COUNT_CAP = 1000


def capped_counts(querysets: dict[str, QuerySet[Any]], cap: int | None = None) -> dict[str, int]:
    """SELECT (SELECT COUNT(*) FROM (… LIMIT cap + 1)), …: every count in one query."""
    cap = COUNT_CAP if cap is None else cap
    if not querysets:
        return {}
    parts: list[str] = []
    params: list[Any] = []
    for i, qs in enumerate(querysets.values()):
        sql, p = qs.order_by().values("pk")[:cap + 1].query.sql_with_params()
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) AS capped_{i})")  # noqa: S608 (our SQL)  # nosec B608
        params.extend(p)
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        row = cursor.fetchone()
    return {name: int(value) for name, value in zip(querysets, row, strict=True)}


def count_label(count: int, cap: int | None = None) -> str:
    """A counter as shown: "1 000+" beyond `cap` (French thousands separator)."""
    cap = COUNT_CAP if cap is None else cap
    if count > cap:
        return f"{cap:,}".replace(",", "\u202f") + "+"
    return str(count)


class CappedPaginator(Paginator[_T]):
    """A Paginator whose count stops at `cap` + 1 rows (COUNT_CAP unless `cap_rows` says
    otherwise): past the cap the pager says "plus de 1 000" and offers the pages up to it,
    the filters (a period) reaching further back. Counting every row of a long history cost
    more than the page itself (a client's 25,000 calls, a million call backs done)."""

    cap_rows: int | None = None

    @property
    def cap(self) -> int:
        return COUNT_CAP if self.cap_rows is None else self.cap_rows

    @property
    def cap_label(self) -> str:
        """The cap as the pager shows it ("1 000", French thousands separator)."""
        return f"{self.cap:,}".replace(",", "\u202f")

    @cached_property
    def count(self) -> int:
        rows = self.object_list
        if isinstance(rows, QuerySet):
            return rows.order_by().values("pk")[:self.cap + 1].count()
        return min(len(rows), self.cap + 1)

    @property
    def capped(self) -> bool:
        return self.count > self.cap
