"""Millions of rows in a few statements: one INSERT … SELECT over a generated series
(PostgreSQL generate_series; a recursive CTE on SQLite), every column from the model's
defaults unless given as an SQL expression of `i` (the row's number)."""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import Any


def insert_series(model: Any, first: int, last: int, custom: dict[str, str], *,
                  stamps: dict[str, tuple[int, int]], now: datetime, batch: int = 500_000,
                  label: str = "rows") -> None:
    """Rows i = first..last. `custom`: field name → SQL expression of i (write %% for %).
    `stamps`: datetime field → (span in seconds, total rows): row i is dated now − i·span/total,
    so the rows spread evenly over the span, the lowest i the most recent. The caller
    VACUUMs / ANALYZEs once it has written all its tables."""
    from django.db import connection, transaction

    names = {f.name for f in model._meta.concrete_fields} | {
        f.attname for f in model._meta.concrete_fields}
    unknown = set(custom) - names
    if unknown:  # a misspelt column would silently be written NULL or its default
        raise ValueError(f"not fields of {model.__name__}: {sorted(unknown)}")
    pg = connection.vendor == "postgresql"
    q = connection.ops.quote_name
    exprs: list[str] = []
    params: list[Any] = []
    columns: list[str] = []
    stamp = ("(%s::timestamptz - make_interval(secs => (i * {s}.0 / {n})))" if pg else
             "strftime('%%Y-%%m-%%d %%H:%%M:%%f', %s, '-' || (i * {s} / {n}) || ' seconds')")
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(q(str(field.column)))
        if field.name in custom or field.attname in custom:
            exprs.append(custom.get(field.name) or custom[field.attname])
        elif field.name in stamps:
            span, total = stamps[field.name]
            exprs.append(stamp.format(s=span, n=total))
            params.append(now if pg else now.strftime("%Y-%m-%d %H:%M:%S"))
        elif field.null:
            exprs.append("NULL")
        elif field.get_internal_type() == "JSONField":
            exprs.append("CAST(%s AS jsonb)" if pg else "%s")
            params.append(json.dumps(field.get_default()))
        else:
            exprs.append("%s")
            params.append(field.get_db_prep_save(field.get_default(), connection))
    table = q(model._meta.db_table)
    series = ("SELECT generate_series(%s, %s) AS i" if pg else
              "WITH RECURSIVE s(i) AS (SELECT %s UNION ALL SELECT i + 1 FROM s WHERE i < %s) "
              "SELECT i FROM s")
    sql = (f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608 (names from models)
           f"SELECT {', '.join(exprs)} FROM ({series}) AS g")
    started = time.perf_counter()
    for lo in range(first, last + 1, batch):
        hi = min(lo + batch - 1, last)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [*params, lo, hi])
        print(f"  … {hi:,} {label} ({time.perf_counter() - started:.0f} s)", flush=True)
