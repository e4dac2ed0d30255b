"""What the agenda pages show, shared by the back-office (views.py) and the espace client
(portal): the chosen account, resources, day or week, the grid, and the slot pickers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import groupby
from typing import Any

from django.http import QueryDict

from permanence.accounts.permissions import Actor
from permanence.accounts.selectors import accounts_visible_to
from permanence.core import clock

from . import grid, selectors
from .models import AppointmentType, Resource

WEEK, DAY = "semaine", "jour"
PICKER_DAYS = 7
PICKER_LIMIT = 60


def _int(value: Any) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**63 else None


def _date(value: Any, default: date) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return default


def optional_date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


@dataclass
class View:
    accounts: list[Any]
    account: Any
    resources: list[Resource]
    chosen: list[Resource]
    mode: str
    first: date
    days: int
    columns: list[grid.Column]
    types: list[AppointmentType]

    @property
    def tz(self) -> Any:
        return selectors.resource_tz(self.chosen[0]) if self.chosen else clock.now().tzinfo

    @property
    def prev(self) -> date:
        return self.first - timedelta(days=self.days)

    @property
    def next(self) -> date:
        return self.first + timedelta(days=self.days)

    @property
    def last(self) -> date:
        return self.first + timedelta(days=self.days - 1)

    def query(self, **changes: Any) -> str:
        q = QueryDict(mutable=True)
        q["compte"] = str(self.account.pk) if self.account else ""
        q.setlist("ressource", [str(r.pk) for r in self.chosen])
        q["vue"], q["date"] = self.mode, self.first.isoformat()
        for key, value in changes.items():
            q[key] = str(value)
        return q.urlencode()


def agenda_view(user: Actor, params: QueryDict, *, account_ids: list[int] | None = None) -> View:
    """The agenda as asked by the query string (compte, ressource…, vue, date)."""
    accounts_qs = accounts_visible_to(user).filter(agenda_resources__active=True).distinct()
    if account_ids is not None:
        accounts_qs = accounts_qs.filter(pk__in=account_ids)
    accounts = list(accounts_qs.order_by("name").only("pk", "name"))
    wanted = _int(params.get("compte"))
    account = next((a for a in accounts if a.pk == wanted), accounts[0] if accounts else None)
    resources = list(Resource.objects.filter(account=account, active=True)) if account else []
    ids = {_int(v) for v in params.getlist("ressource")}
    chosen = [r for r in resources if r.pk in ids] or resources[:4]
    mode = DAY if params.get("vue") == DAY else WEEK
    today = clock.now().astimezone(selectors.resource_tz(chosen[0]) if chosen
                                   else clock.now().tzinfo).date()
    first = _date(params.get("date"), today)
    if mode == WEEK:
        first -= timedelta(days=first.weekday())
    days = 1 if mode == DAY else 7
    # Several resources side by side for a day; a week is one resource's.
    if mode == WEEK:
        chosen = chosen[:1]
    columns = grid.build(chosen, first, days)
    types = list(AppointmentType.objects.filter(account=account, active=True)) if account \
        else []
    return View(accounts, account, resources, chosen, mode, first, days, columns, types)


@dataclass
class PickerDay:
    day: date
    slots: list[selectors.Slot]


def picker(kind: AppointmentType, *, start: date | None = None, online: bool = False,
           resources: list[Resource] | None = None, days: int = PICKER_DAYS,
           limit: int = PICKER_LIMIT) -> list[PickerDay]:
    """Free slots of `kind` for `days` days from `start` (today), grouped by local day."""
    if resources is None:
        resources = list(kind.resources.filter(active=True))
    if not resources:
        return []
    tz = selectors.resource_tz(resources[0])
    now = clock.now()
    begin = datetime.combine(start or now.astimezone(tz).date(), time(0), tzinfo=tz)
    found = selectors.slots(kind, max(begin, now), begin + timedelta(days=days),
                            resources=resources, online=online, limit=limit)
    return [PickerDay(day, list(items)) for day, items in
            groupby(found, key=lambda s: s.local.date())]
