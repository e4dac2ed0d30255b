"""Counters that stay cheap on large tables: each count stops at `cap + 1` rows (an index
range walk, never a full count), several of them in ONE query, and a label that says
"1 000+" beyond the cap instead of pretending to an exact figure."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.db.models import QuerySet

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
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) AS capped_{i})")  # noqa: S608 (our SQL)
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
