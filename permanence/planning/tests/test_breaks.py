"""Breaks placed by rule (10 minutes after each 2 hours worked, never in the first or last
30 minutes), worked out by hand."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from permanence.planning.breaks import Rule, place_breaks, rule, worked_minutes
from permanence.planning.models import Shift, shift_minutes


def test_a_four_hour_shift_has_one_break_after_two_hours() -> None:
    # 08:00–12:00: 2 h of work, a break 10:00–10:10, then 1 h 50 (more than 30 min remain).
    assert place_breaks(240) == [(120, 130)]
    assert worked_minutes(240) == 230


def test_a_seven_and_a_half_hour_shift_has_three_breaks() -> None:
    # 450 min: work 0–120, break 120–130, work 130–250 (2 h), break 250–260, work 260–380,
    # break 380–390, then 60 min to the end (≥ 30: allowed). The next would start at 510.
    assert place_breaks(450) == [(120, 130), (250, 260), (380, 390)]
    assert worked_minutes(450) == 420


def test_no_break_in_the_last_thirty_minutes() -> None:
    # 2 h 20: a break at 2:00 would leave 10 minutes: the agent goes home instead.
    assert place_breaks(140) == []
    # 2 h 40: break 2:00–2:10 leaves exactly 30 minutes: allowed.
    assert place_breaks(160) == [(120, 130)]
    assert place_breaks(119) == []


def at(day: int, hour: int, minute: int) -> datetime:
    """A naive local time in March 2026 (the planning is drawn in local time)."""
    return datetime.combine(date(2026, 3, day), time(hour, minute))


def test_a_night_shift_crossing_midnight() -> None:
    shift = Shift(day=date(2026, 3, 6), starts_at=time(22), ends_at=time(6))
    assert shift.crosses_midnight and shift.duration_minutes == 480
    assert shift.end == at(7, 6, 0)
    # 22:00 + 2 h = 00:00; + 10 min + 2 h = 02:10; + 10 min + 2 h = 04:20 (90 min remain).
    assert shift.breaks() == [
        (at(7, 0, 0), at(7, 0, 10)),
        (at(7, 2, 10), at(7, 2, 20)),
        (at(7, 4, 20), at(7, 4, 30))]


def test_shift_lengths() -> None:
    assert shift_minutes(time(8), time(15, 30)) == 450
    assert shift_minutes(time(22), time(6)) == 480
    assert shift_minutes(time(0), time(0)) == 1440  # an end equal to the start is refused upstream


def test_the_rule_is_read_from_the_settings(settings: Any) -> None:
    assert rule() == Rule(every=120, length=10, edge=30)
    settings.PLANNING_BREAK_EVERY_MINUTES = 90
    settings.PLANNING_BREAK_MINUTES = 15
    assert place_breaks(240) == [(90, 105), (195, 210)]
    assert place_breaks(240, Rule(every=60, length=0, edge=30)) == []
