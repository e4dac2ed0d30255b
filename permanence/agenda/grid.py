"""The day and week grids shown to secretaries and clients: columns of appointments, blocked
and busy times, laid out by minute. Two queries for any number of resources and days."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.utils import formats

from . import selectors
from .models import Appointment, AvailabilityException, Resource

DAY_START, DAY_END = time(7, 0), time(20, 0)
SPAN = (DAY_END.hour - DAY_START.hour) * 60


@dataclass
class Item:
    kind: str  # "appointment", "closed", "busy", "open"
    top: float  # % of the column from DAY_START
    height: float
    label: str
    start: datetime
    end: datetime
    obj: Any = None
    resource: str = ""


@dataclass
class Column:
    title: str
    day: date
    resource: Resource
    items: list[Item] = field(default_factory=list)


def _place(start: datetime, end: datetime, day: date, tz: Any) -> tuple[float, float] | None:
    origin = datetime.combine(day, DAY_START, tzinfo=tz)
    top = (start.astimezone(tz) - origin).total_seconds() / 60
    bottom = (end.astimezone(tz) - origin).total_seconds() / 60
    top, bottom = max(top, 0), min(bottom, SPAN)
    if bottom <= top:
        return None
    return round(100 * top / SPAN, 3), round(100 * (bottom - top) / SPAN, 3)


def build(resources: list[Resource], first: date, days: int) -> list[Column]:
    """Columns of `days` days from `first`: per day, one column per resource."""
    if not resources:
        return []
    tz = selectors.resource_tz(resources[0])
    start = datetime.combine(first, time(0), tzinfo=tz)
    end = start + timedelta(days=days)
    appointments = selectors.appointments_between(resources, start, end)
    exceptions = selectors.exceptions_between(resources, start, end)
    columns = []
    for n in range(days):
        day = first + timedelta(days=n)
        for r in resources:
            title = (r.name if days == 1 else formats.date_format(day, "D j/m")
                     + ("" if len(resources) == 1 else f" · {r.name}"))
            columns.append(Column(title, day, r))
    by_key = {(c.day, c.resource.pk): c for c in columns}
    for e in exceptions:
        _spread(by_key, e.resource_id, start=e.start, end=e.end, kind=e.kind, label=e.note,
                obj=e, resources=resources)
    for a in appointments:
        label = f"{a.contact_name or '—'} · {a.type.name}"
        _spread(by_key, a.resource_id, start=a.start, end=a.end, kind="appointment",
                label=label, obj=a, resources=resources)
    return columns


def _spread(by_key: dict[tuple[date, int], Column], resource_id: int, *, start: datetime,
            end: datetime, kind: str, label: str, obj: Appointment | AvailabilityException,
            resources: list[Resource]) -> None:
    """Place one item in every day column it meets (an absence may span days)."""
    resource = next(r for r in resources if r.pk == resource_id)
    tz = selectors.resource_tz(resource)
    day = start.astimezone(tz).date()
    while datetime.combine(day, time(0), tzinfo=tz) < end:
        column = by_key.get((day, resource_id))
        if column is not None:
            placed = _place(start, end, day, tz)
            if placed:
                column.items.append(Item(kind, placed[0], placed[1], label, start, end, obj,
                                         resource.name))
        day += timedelta(days=1)


def hours() -> list[tuple[str, float]]:
    """Hour marks: ("08:00", top %)."""
    return [(f"{h:02d}:00", round(100 * (h - DAY_START.hour) * 60 / SPAN, 3))
            for h in range(DAY_START.hour, DAY_END.hour)]
