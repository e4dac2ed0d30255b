"""Reads of the status app: availability, the channels' current state, the incidents shown
on the public page, and the announcements of ongoing or upcoming incidents (cached).

Availability of a channel over N days (the local days ending today):

    availability = minutes up ÷ minutes observed

- minutes observed: minutes the sampler ran (one sample per channel per minute);
- minutes up: minutes its probe said up, except that the minutes inside a declared incident
  of severity « indisponible » count as down even when the probe said up. Per day:
  up = min(probe up, observed − declared unavailable minutes) — the probe's own down minutes
  are taken to fall inside the declared outage (they usually are the outage);
- « hors maintenance planifiée »: the minutes inside a planned maintenance are removed from
  the minutes observed (and first from the probe's down minutes), the declared unavailable
  minutes outside maintenance still count as down.

The figure is truncated to two decimals, never rounded up (1430 up of 1440 → 99,30 %;
14 399 of 14 400 → 99,99 %, not 100 %). Declared minutes are rounded up to the minute, the
maintenance removed rounded down: the figure errs low, never high.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Q, QuerySet
from django.utils import timezone

from permanence.core import clock, local_cache

from .models import Channel, ChannelDay, Incident

WINDOWS = (30, 90)
ANNOUNCE_AHEAD = timedelta(days=7)
SAMPLE_STALE = timedelta(minutes=5)  # no sample for this long: state unknown

Interval = tuple[datetime, datetime]


def truncated_percent(up: int, observed: int) -> Decimal | None:
    """up ÷ observed as a percentage truncated (not rounded) to two decimals; None when
    nothing was observed."""
    if observed <= 0:
        return None
    hundredths = max(0, min(up, observed)) * 10000 // observed
    return (Decimal(hundredths) / 100).quantize(Decimal("0.01"))


def _day_bounds(day: date) -> Interval:
    tz = timezone.get_current_timezone()
    start = timezone.make_aware(datetime.combine(day, time.min), tz)
    end = timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min), tz)
    return start, end


def _union_seconds(intervals: Iterable[Interval], lo: datetime, hi: datetime) -> float:
    clipped = sorted((max(s, lo), min(e, hi)) for s, e in intervals if s < hi and e > lo)
    total, cur_s, cur_e = 0.0, None, None
    for s, e in clipped:
        if cur_e is None or s > cur_e:
            if cur_e is not None and cur_s is not None:
                total += (cur_e - cur_s).total_seconds()
            cur_s, cur_e = s, e
        else:
            cur_e = max(cur_e, e)
    if cur_e is not None and cur_s is not None:
        total += (cur_e - cur_s).total_seconds()
    return total


@dataclass(frozen=True)
class DayFigures:
    observed: int = 0
    up: int = 0  # after declared unavailability
    maintenance: int = 0  # minutes of planned maintenance removed
    observed_excl: int = 0
    up_excl: int = 0

    @property
    def percent(self) -> Decimal | None:
        return truncated_percent(self.up, self.observed)


def day_figures(*, observed: int, probe_up: int, declared_down: Iterable[Interval],
                maintenance: Iterable[Interval], maintenance_down: Iterable[Interval],
                day: date, now: datetime) -> DayFigures:
    """One channel's one day (see the module's docstring)."""
    lo, hi = _day_bounds(day)
    hi = min(hi, now)
    if hi <= lo:
        return DayFigures()
    declared, maint, maint_down = list(declared_down), list(maintenance), list(maintenance_down)
    forced = math.ceil(_union_seconds(declared + maint_down, lo, hi) / 60)
    maint_minutes = int(_union_seconds(maint, lo, hi) // 60)
    outside = math.ceil(max(0.0, _union_seconds(declared + maint, lo, hi)
                            - _union_seconds(maint, lo, hi)) / 60)
    probe_up = min(probe_up, observed)
    up = min(probe_up, max(observed - forced, 0))
    observed_excl = max(observed - maint_minutes, 0)
    up_excl = min(probe_up, observed_excl, max(observed_excl - outside, 0))
    return DayFigures(observed, up, min(maint_minutes, observed), observed_excl, up_excl)


@dataclass(frozen=True)
class Availability:
    days: int
    observed: int
    up: int
    maintenance: int
    observed_excl: int
    up_excl: int

    @property
    def percent(self) -> Decimal | None:
        return truncated_percent(self.up, self.observed)

    @property
    def percent_excl(self) -> Decimal | None:
        return truncated_percent(self.up_excl, self.observed_excl)

    @property
    def down(self) -> int:
        return self.observed - self.up


def _intervals(incidents: Iterable[Incident], channel: str,
               now: datetime) -> tuple[list[Interval], list[Interval], list[Interval]]:
    declared, maint, maint_down = [], [], []
    for incident in incidents:
        if channel not in incident.channels:
            continue
        span = (incident.starts_at, incident.ends_at or now)
        if incident.is_maintenance:
            maint.append(span)
            if incident.severity == Incident.Severity.UNAVAILABLE:
                maint_down.append(span)
        elif incident.severity == Incident.Severity.UNAVAILABLE:
            declared.append(span)
    return declared, maint, maint_down


def channel_days(*, channel: str, rows: dict[date, ChannelDay], incidents: list[Incident],
                 days: int, now: datetime) -> list[tuple[date, DayFigures | None]]:
    """The last `days` local days (oldest first) of one channel; None: no sample that day."""
    today = timezone.localdate(now)
    declared, maint, maint_down = _intervals(incidents, channel, now)
    out: list[tuple[date, DayFigures | None]] = []
    for back in range(days - 1, -1, -1):
        day = today - timedelta(days=back)
        row = rows.get(day)
        if row is None or row.minutes_observed == 0:
            out.append((day, None))
            continue
        out.append((day, day_figures(observed=row.minutes_observed, probe_up=row.minutes_up,
                                     declared_down=declared, maintenance=maint,
                                     maintenance_down=maint_down, day=day, now=now)))
    return out


def sum_availability(figures: list[tuple[date, DayFigures | None]], days: int) -> Availability:
    kept = [f for _, f in figures[-days:] if f is not None]
    return Availability(days, sum(f.observed for f in kept), sum(f.up for f in kept),
                        sum(f.maintenance for f in kept), sum(f.observed_excl for f in kept),
                        sum(f.up_excl for f in kept))


def availability(*, channel: str, days: int, now: datetime | None = None) -> Availability:
    """One channel's availability over the last `days` days (two queries)."""
    at = now or clock.now()
    start = timezone.localdate(at) - timedelta(days=days - 1)
    rows = {r.day: r for r in ChannelDay.objects.filter(channel=channel, day__gte=start)}
    incidents = list(_incidents_since(_day_bounds(start)[0]))
    return sum_availability(channel_days(channel=channel, rows=rows, incidents=incidents,
                                         days=days, now=at), days)


def _incidents_since(since: datetime) -> QuerySet[Incident]:
    return Incident.objects.filter(Q(ends_at__isnull=True) | Q(ends_at__gt=since))


# --- The public page -------------------------------------------------------------------

class State:
    OPERATIONAL = "operational"
    DEGRADED = "degraded"
    UNAVAILABLE = "unavailable"
    MAINTENANCE = "maintenance"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Bar:
    day: date
    percent: Decimal | None
    level: str  # ok, minor, major, none
    x: int


@dataclass
class ChannelStatus:
    channel: str
    label: str
    state: str
    windows: list[Availability]
    bars: list[Bar] = field(default_factory=list)


@dataclass
class StatusPage:
    channels: list[ChannelStatus]
    ongoing: list[Incident]
    upcoming: list[Incident]
    past: list[Incident]
    now: datetime

    @property
    def all_operational(self) -> bool:
        return all(c.state == State.OPERATIONAL for c in self.channels)


def _level(percent: Decimal | None) -> str:
    if percent is None:
        return "none"
    if percent >= 100:
        return "ok"
    return "minor" if percent >= Decimal("99") else "major"


def _current_state(channel: str, latest: ChannelDay | None, ongoing: list[Incident],
                   now: datetime) -> str:
    declared = [i for i in ongoing if channel in i.channels]
    if any(i.is_maintenance for i in declared):
        return State.MAINTENANCE
    if any(i.severity == Incident.Severity.UNAVAILABLE for i in declared):
        return State.UNAVAILABLE
    if latest is None or latest.last_at < now - SAMPLE_STALE:
        return State.DEGRADED if declared else State.UNKNOWN
    if not latest.last_up:
        return State.UNAVAILABLE
    return State.DEGRADED if declared else State.OPERATIONAL


def status_page(now: datetime | None = None) -> StatusPage:
    """Everything /statut/ shows, in three queries whatever the number of incidents."""
    at = now or clock.now()
    days = max(WINDOWS)
    start_day = timezone.localdate(at) - timedelta(days=days - 1)
    since = _day_bounds(start_day)[0]
    by_channel: dict[str, dict[date, ChannelDay]] = {c: {} for c in Channel.values}
    for row in ChannelDay.objects.filter(day__gte=start_day):
        by_channel.setdefault(row.channel, {})[row.day] = row
    incidents = list(_incidents_since(since).prefetch_related("updates"))
    ongoing = [i for i in incidents if i.starts_at <= at and (i.ends_at is None or i.ends_at > at)]
    channels = []
    for channel, label in Channel.choices:
        rows = by_channel[channel]
        figures = channel_days(channel=channel, rows=rows, incidents=incidents, days=days,
                               now=at)
        latest = max(rows.values(), key=lambda r: r.last_at, default=None)
        channels.append(ChannelStatus(
            channel=channel, label=str(label),
            state=_current_state(channel, latest, ongoing, at),
            windows=[sum_availability(figures, n) for n in WINDOWS],
            bars=[Bar(day, f.percent if f else None, _level(f.percent if f else None), i * 10)
                  for i, (day, f) in enumerate(figures)]))
    public = [i for i in incidents if i.public]
    return StatusPage(
        channels=channels,
        ongoing=[i for i in public if i in ongoing],
        upcoming=sorted((i for i in public if i.starts_at > at), key=lambda i: i.starts_at),
        past=[i for i in public if i.ends_at is not None and i.ends_at <= at],
        now=at)


# --- Announcements on the public site and the espace client ------------------------------

# Read on every page that shows the notices: cached per process (core.local_cache: a change
# shows at once in the process that made it, within LOCAL_CACHE_SECONDS elsewhere).
local_cache.watch("status.Incident")
_ANNOUNCED = local_cache.LocalCache("status_announcements")


def _announceable() -> list[Incident]:
    now = clock.now()
    return list(Incident.objects.filter(
        Q(ends_at__isnull=True) | Q(ends_at__gt=now), public=True,
        starts_at__lte=now + ANNOUNCE_AHEAD + timedelta(minutes=5)).order_by("starts_at"))


def announced_incidents() -> list[Incident]:
    """Public incidents ongoing now or starting within 7 days (no query while cached)."""
    now = clock.now()
    return [i for i in _ANNOUNCED.get_or_compute(None, _announceable)
            if i.starts_at <= now + ANNOUNCE_AHEAD and (i.ends_at is None or i.ends_at > now)]
