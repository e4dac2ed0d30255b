"""The public promise of the "Service client" page, read from what the product enforces.

Response delays come from the default SLA policy (inbox/sla.py: the same rows, caps and
complaint rule the SLA engine applies), opening hours, public holidays and closures from the
operator's business calendar (core/calendar_services), order deadlines from shop/orders.py.
Nothing here is typed by hand, so the page and the product cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import holidays
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from permanence.calendars.clocks import clock_explanation
from permanence.calendars.models import Announcement, HolidayRegion
from permanence.calendars.services import calendar_for_account, spec_for_calendar
from permanence.core import clock
from permanence.core.business_time import is_open, next_opening
from permanence.core.errors import DomainError
from permanence.inbox import sla
from permanence.inbox.models import Kind, Priority, SlaTarget

from .models import DEFAULT_ACTIVATION_BUSINESS_HOURS, VALIDATION_BUSINESS_HOURS


def _weekday_label(index: int) -> str:
    labels = (_("lundi"), _("mardi"), _("mercredi"), _("jeudi"), _("vendredi"), _("samedi"),
              _("dimanche"))
    return str(labels[index])


def format_hours(value: Decimal) -> str:
    """Decimal("24.00") → "24", Decimal("1.50") → "1,5" (or "1.5" in English)."""
    text = format(value.normalize(), "f")
    if not (get_language() or "fr").startswith("en"):
        text = text.replace(".", ",")
    return text


def _fmt_time(t: time, *, is_end: bool = False) -> str:
    if is_end and t == time(0, 0):
        return "24:00"
    return t.strftime("%H:%M")


@dataclass(frozen=True)
class DelayRow:
    priority: str
    label: str
    first_response_hours: Decimal
    same_day: bool
    resolution_hours: Decimal


@dataclass(frozen=True)
class Delays:
    rows: list[DelayRow]
    standard_min: Decimal  # first response, standard requests (normal and low priority)
    standard_max: Decimal
    urgent_same_day: bool
    urgent_hours: Decimal
    cap_hours: Decimal
    complaint_min: Decimal  # acknowledgement of a complaint
    complaint_max: Decimal
    order_validation_hours: int
    order_activation_hours: int
    clock: str  # how "heures ouvrées" count: calendars.clocks.DeadlineClock
    clock_text: str  # the same, in plain words for customers


def response_delays() -> Delays:
    """The default policy's targets as the SLA engine applies them (caps included).

    Read-only: before the first conversation creates the default policy, the engine's
    built-in defaults are shown (they are what it would create)."""

    stored = {(t.priority, t.kind): t for t in
              SlaTarget.objects.filter(policy__account__isnull=True)}

    def target(priority: str, kind: str = "") -> tuple[Decimal, bool, Decimal]:
        row = stored.get((priority, kind)) or stored.get((priority, ""))
        if row is not None:
            first, same_day, resolution = (row.first_response_hours, row.first_response_same_day,
                                           row.resolution_hours)
        else:
            first, same_day, _next, resolution = sla.DEFAULT_TARGETS[priority]
            if kind == Kind.COMPLAINT:
                first = min(sla.COMPLAINT_FIRST_RESPONSE, first)
        first = min(first, sla.MAX_HOURS)
        if kind == Kind.COMPLAINT:
            first = min(first, sla.COMPLAINT_FIRST_RESPONSE)
        return first, same_day, min(resolution, sla.MAX_HOURS)

    rows = []
    for priority in (Priority.URGENT, Priority.HIGH, Priority.NORMAL, Priority.LOW):
        first, same_day, resolution = target(priority)
        rows.append(DelayRow(str(priority), str(priority.label), first, same_day, resolution))
    standard = [target(p)[0] for p in (Priority.NORMAL, Priority.LOW)]
    complaint = [target(p, Kind.COMPLAINT)[0] for p in (Priority.NORMAL, Priority.LOW)]
    urgent_first, urgent_same_day, _res = target(Priority.URGENT)
    return Delays(rows=rows, standard_min=min(standard), standard_max=max(standard),
                  urgent_same_day=urgent_same_day, urgent_hours=urgent_first,
                  cap_hours=sla.MAX_HOURS, complaint_min=min(complaint),
                  complaint_max=max(complaint),
                  order_validation_hours=VALIDATION_BUSINESS_HOURS,
                  order_activation_hours=DEFAULT_ACTIVATION_BUSINESS_HOURS,
                  clock=operator_clock(), clock_text=clock_explanation(operator_clock()))


def operator_clock() -> str:
    """The operator's one clock setting (the default SLA policy's): it governs the response
    delays, the order and quote deadlines, and what the public pages and the CGV say."""
    return sla.operator_clock()


def deadline_clock_text() -> str:
    """How "heures ouvrées" count, in plain words (service-client page, CGV, order pages)."""
    return clock_explanation(operator_clock())


@dataclass(frozen=True)
class HoursLine:
    days: str  # "lundi – vendredi"
    slots: str  # "08:30–12:30, 14:00–18:00" or "fermé"
    is_open: bool


@dataclass(frozen=True)
class Opening:
    timezone: str
    lines: list[HoursLine]
    holidays_label: str  # "" when public holidays are worked
    upcoming_holidays: list[tuple[date, str]]
    closures: list[tuple[datetime, datetime, str]]  # current and future, local time
    open_now: bool
    next_opening: datetime | None


def _slots_label(slots: tuple[tuple[time, time], ...]) -> str:
    if not slots:
        return _("fermé")
    return ", ".join(f"{_fmt_time(a)}–{_fmt_time(b, is_end=True)}" for a, b in slots)


def weekly_lines(weekly: tuple[tuple[tuple[time, time], ...], ...]) -> list[HoursLine]:
    """Consecutive days with the same hours grouped: "lundi – vendredi : 08:30–12:30, …"."""
    lines: list[HoursLine] = []
    start = 0
    for i in range(1, 8):
        if i == 7 or weekly[i] != weekly[start]:
            days = (_weekday_label(start) if i - 1 == start
                    else f"{_weekday_label(start)} – {_weekday_label(i - 1)}")
            lines.append(HoursLine(days, _slots_label(weekly[start]), bool(weekly[start])))
            start = i
    return lines


def _upcoming_holidays(region: str, today: date, limit: int = 6) -> list[tuple[date, str]]:
    if not region:
        return []

    language = "en_US" if (get_language() or "fr").startswith("en") else "fr"
    kwargs: dict[str, Any] = {"years": [today.year, today.year + 1], "language": language}
    if region == "FR-57":
        kwargs["subdiv"] = "57"
    calendar = holidays.France(**kwargs)
    return sorted((d, str(name)) for d, name in calendar.items() if d >= today)[:limit]


def opening() -> Opening:

    calendar = calendar_for_account(None)
    spec = spec_for_calendar(calendar)
    now = clock.now()
    local_today = now.astimezone(spec.tz).date()
    messages = spec.closure_messages or ("",) * len(spec.closures)
    closures = [(a.astimezone(spec.tz), b.astimezone(spec.tz), m)
                for (a, b), m in zip(spec.closures, messages, strict=False) if b > now]
    try:
        upcoming = next_opening(spec, now)
    except DomainError:  # a calendar that never opens: say nothing rather than fail
        upcoming = None
    return Opening(
        timezone=spec.tz.key,
        lines=weekly_lines(spec.weekly),
        holidays_label=str(HolidayRegion(spec.holidays).label) if spec.holidays else "",
        upcoming_holidays=_upcoming_holidays(spec.holidays, local_today),
        closures=closures,
        open_now=is_open(spec, now),
        next_opening=upcoming.astimezone(spec.tz) if upcoming else None,
    )


def upcoming_announcements() -> list[Any]:
    """Public announcements (maintenance, closures, information) now or to come."""

    now = clock.now()
    return list(Announcement.objects.filter(show_public=True, ends_at__gt=now,
                                            starts_at__lte=now + timedelta(days=60))
                .order_by("starts_at"))
