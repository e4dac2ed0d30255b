"""Percentiles computed by the database, the same on PostgreSQL and SQLite: the rank's two
neighbouring values read by ORDER BY … OFFSET, then interpolated linearly (PostgreSQL's
percentile_cont): the sort happens in the database, only two values travel."""

from __future__ import annotations

import math
from typing import Any

from django.db.models import QuerySet


def percentile(qs: QuerySet[Any], field: str, fraction: float, *,
               count: int | None = None) -> float | None:
    """The `fraction` (0–1) percentile of `field` over `qs`'s rows where it is not null; None
    without any. `count` (those rows) saves a query when the caller already has it."""
    rows = qs.filter(**{f"{field}__isnull": False})
    n = rows.count() if count is None else count
    if n == 0:
        return None
    rank = fraction * (n - 1)
    low = math.floor(rank)
    values = list(rows.order_by(field).values_list(field, flat=True)[low:low + 2])
    if len(values) == 1 or rank == low:
        return float(values[0])
    return float(values[0]) + (rank - low) * (float(values[1]) - float(values[0]))


def of_sorted(values: list[float], fraction: float) -> float | None:
    """The same interpolation over values already in memory and sorted (e.g. durations the
    database cannot compute alike on both engines); None for an empty list."""
    if not values:
        return None
    rank = fraction * (len(values) - 1)
    low = math.floor(rank)
    if low + 1 >= len(values) or rank == low:
        return float(values[low])
    return values[low] + (rank - low) * (values[low + 1] - values[low])
