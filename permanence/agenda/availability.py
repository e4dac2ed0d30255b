"""Free slots, computed without the database: the resource's openings (its weekly hours,
public holidays and absences through the kernel's business-time engine, plus extra
openings) minus what is busy (other appointments' blocks, busy times of synced calendars).

A start is offered when [start, start + duration) lies inside one opening, its block
[start - buffer before, end + buffer after) overlaps nothing busy, it is at least the type's
minimum notice after now and within its booking horizon. Candidates are laid from the start
of each opening every (duration + buffers), so back-to-back appointments fill a day."""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from permanence.core.business_time import CalendarSpec, open_intervals
from permanence.core.errors import DomainError

Interval = tuple[datetime, datetime]


@dataclass(frozen=True)
class Rules:
    duration: timedelta
    before: timedelta = timedelta(0)
    after: timedelta = timedelta(0)
    min_notice: timedelta = timedelta(0)
    horizon: timedelta = timedelta(days=90)

    @property
    def step(self) -> timedelta:
        return self.duration + self.before + self.after


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, with overlapping or touching intervals joined."""
    out: list[Interval] = []
    for a, b in sorted(intervals):
        if a >= b:
            continue
        if out and a <= out[-1][1]:
            if b > out[-1][1]:
                out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return out


def openings(spec: CalendarSpec, extra: Sequence[Interval], start: datetime,
             end: datetime) -> list[Interval]:
    """Open intervals meeting [start, end): weekly hours less holidays and absences (the
    spec's closures), plus the extra openings; merged."""
    found: list[Interval] = []
    if any(spec.weekly):
        try:
            for a, b in open_intervals(spec, start):
                if a >= end:
                    break
                found.append((a, b))
        except DomainError:  # never open again (absent for years): only the extras remain
            pass
    found.extend((a, b) for a, b in extra if b > start and a < end)
    return merge(found)


class Busy:
    """Busy intervals, merged once, asked "does [a, b) overlap?" in O(log n)."""

    def __init__(self, intervals: Iterable[Interval]) -> None:
        merged = merge(intervals)
        self.starts = [a for a, _b in merged]
        self.ends = [b for _a, b in merged]

    def overlaps(self, a: datetime, b: datetime) -> bool:
        i = bisect.bisect_right(self.ends, a)  # the first busy interval ending after a
        return i < len(self.starts) and self.starts[i] < b


def free_starts(*, spec: CalendarSpec, extra_open: Sequence[Interval], busy: Busy,
                rules: Rules, start: datetime, end: datetime, now: datetime,
                limit: int | None = None) -> list[datetime]:
    """Offered start instants (UTC) in [start, end), in order."""
    earliest = max(start, now + rules.min_notice)
    latest = min(end, now + rules.horizon)
    if earliest >= latest:
        return []
    out: list[datetime] = []
    step = rules.step
    # From the local midnight before: each opening is seen whole, so the grid starts at
    # its start whatever `start` is.
    local = earliest.astimezone(spec.tz)
    day_start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    for a, b in openings(spec, extra_open, day_start, latest):
        t = a
        while t + rules.duration <= b:
            if t >= latest:
                return out
            if t >= earliest and not busy.overlaps(t - rules.before,
                                                   t + rules.duration + rules.after):
                out.append(t.astimezone(UTC))
                if limit is not None and len(out) >= limit:
                    return out
            t += step
    return out


def fits(*, spec: CalendarSpec, extra_open: Sequence[Interval], start: datetime,
         end: datetime) -> bool:
    """[start, end) lies inside one opening (a time a secretary may book)."""
    return any(a <= start and end <= b
               for a, b in openings(spec, extra_open, start - timedelta(days=1), end))
