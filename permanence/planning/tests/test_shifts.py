"""Shifts: overlaps refused (across midnight too), the copy of the previous week, and the
planned headcount per half-hour worked out by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest

from permanence.audit.models import AuditEvent
from permanence.core import clock
from permanence.core.errors import DomainError
from permanence.desk.models import AgentStateChange
from permanence.planning import selectors, services
from permanence.planning.models import Shift

pytestmark = pytest.mark.django_db

MONDAY = date(2026, 3, 2)


@pytest.fixture(autouse=True)
def _today() -> Any:
    """Plan around a fixed week (the horizon check compares with today)."""
    with clock.frozen(datetime(2026, 2, 25, 9, tzinfo=UTC)):
        yield


def add(actor: Any, agent: Any, day: date, start: str, end: str) -> Shift:
    return services.shift_create(actor=actor, agent=agent, day=day,
                                 starts_at=time.fromisoformat(start),
                                 ends_at=time.fromisoformat(end))


def test_a_supervisor_plans_a_shift_audited(supervisor: Any, agent: Any) -> None:
    shift = add(supervisor, agent, MONDAY, "08:00", "15:30")
    assert shift.duration_minutes == 450 and len(shift.breaks()) == 3
    assert AuditEvent.objects.filter(action="create", target_id=str(shift.pk)).exists()


def test_overlapping_shifts_of_one_agent_are_refused(supervisor: Any, agent: Any,
                                                     other_agent: Any) -> None:
    add(supervisor, agent, MONDAY, "08:00", "12:00")
    with pytest.raises(DomainError) as error:
        add(supervisor, agent, MONDAY, "11:30", "14:00")
    assert error.value.status == 422 and "starts_at" in error.value.fields
    add(supervisor, agent, MONDAY, "12:00", "16:00")  # back to back: fine
    add(supervisor, other_agent, MONDAY, "09:00", "13:00")  # another agent: fine
    assert Shift.objects.count() == 3


def test_a_night_shift_overlaps_the_next_morning(supervisor: Any, agent: Any) -> None:
    add(supervisor, agent, MONDAY, "22:00", "06:00")
    with pytest.raises(DomainError):
        add(supervisor, agent, MONDAY + timedelta(days=1), "05:00", "09:00")
    with pytest.raises(DomainError):  # and the evening before, seen from the night shift
        add(supervisor, agent, MONDAY, "21:00", "23:00")
    add(supervisor, agent, MONDAY + timedelta(days=1), "06:00", "09:00")


def test_an_edit_does_not_collide_with_itself(supervisor: Any, agent: Any) -> None:
    shift = add(supervisor, agent, MONDAY, "08:00", "12:00")
    moved = services.shift_update(actor=supervisor, shift=shift, agent=agent, day=MONDAY,
                                  starts_at=time(9), ends_at=time(13), note="décalé")
    assert (moved.starts_at, moved.note) == (time(9), "décalé")


def test_empty_and_far_away_shifts_are_refused(supervisor: Any, agent: Any,
                                               billing: Any) -> None:
    with pytest.raises(DomainError) as error:
        add(supervisor, agent, MONDAY, "08:00", "08:00")
    assert "ends_at" in error.value.fields
    with pytest.raises(DomainError) as error:
        add(supervisor, agent, date(2099, 1, 1), "08:00", "12:00")
    assert "day" in error.value.fields
    with pytest.raises(DomainError) as error:
        add(supervisor, billing, MONDAY, "08:00", "12:00")  # not a secretary
    assert "agent" in error.value.fields


def test_a_secretary_cannot_plan(agent: Any) -> None:
    with pytest.raises(DomainError) as error:
        add(agent, agent, MONDAY, "08:00", "12:00")
    assert error.value.status == 403
    assert not Shift.objects.exists()


def test_copy_the_previous_week_skips_what_would_overlap(supervisor: Any, agent: Any,
                                                         other_agent: Any) -> None:
    add(supervisor, agent, MONDAY - timedelta(days=7), "08:00", "12:00")
    add(supervisor, other_agent, MONDAY - timedelta(days=5), "22:00", "06:00")
    add(supervisor, agent, MONDAY, "10:00", "14:00")  # already planned: kept, copy skipped
    result = services.week_copy_previous(actor=supervisor, monday=MONDAY + timedelta(days=3))
    assert (result.copied, result.skipped) == (1, 1)
    night = Shift.objects.get(agent=other_agent, day=MONDAY + timedelta(days=2))
    assert (night.starts_at, night.ends_at) == (time(22), time(6))
    assert list(Shift.objects.filter(agent=agent, day=MONDAY).values_list(
        "starts_at", flat=True)) == [time(10)]


def test_headcount_per_half_hour_by_hand(supervisor: Any, agent: Any, other_agent: Any,
                                         make_user: Any) -> None:
    night = make_user("nuit@test.fr", "agent")
    add(supervisor, agent, MONDAY, "08:00", "12:00")  # break 10:00–10:10
    add(supervisor, other_agent, MONDAY, "09:15", "11:00")  # 1 h 45: no break
    add(supervisor, night, MONDAY - timedelta(days=1), "22:00", "06:00")  # breaks 00:00,
    # 02:10, 04:20 (Monday)
    add(supervisor, night, MONDAY, "22:00", "06:00")  # Monday night: 22:00–24:00 counts
    counts = selectors.headcount_by_half_hour(MONDAY)
    assert len(counts) == 48
    expected = [0.0] * 48
    for slot in range(0, 12):  # 00:00–06:00, the Sunday night shift
        expected[slot] = 1.0
    expected[0] = 0.67  # 00:00–00:10 on break: 20 of 30 minutes
    expected[4] = 0.67  # 02:10–02:20
    expected[8] = 0.67  # 04:20–04:30
    for slot in range(16, 24):  # 08:00–12:00
        expected[slot] = 1.0
    expected[20] = 0.67  # 10:00–10:10 on break
    expected[18] += 0.5  # 09:15–09:30
    expected[19] += 1
    expected[20] += 1  # 1.67
    expected[21] += 1
    for slot in range(44, 48):  # 22:00–24:00, the Monday night shift before its first break
        expected[slot] = 1.0
    assert counts == pytest.approx(expected, abs=0.01)
    assert counts[20] == 1.67 and counts[21] == 2.0


def test_the_week_grid_counts_breaks_taken(supervisor: Any, agent: Any) -> None:
    add(supervisor, agent, MONDAY, "08:00", "15:30")
    AgentStateChange.objects.create(user=agent, from_status="disponible", to_status="en_pause",
                                    at=datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    AgentStateChange.objects.create(user=agent, from_status="en_pause", to_status="disponible",
                                    at=datetime(2026, 3, 2, 9, 10, tzinfo=UTC))
    week = selectors.week_grid(MONDAY + timedelta(days=2))
    [row] = week.rows
    assert week.monday == MONDAY and [d for d, _s in row.cells][0] == MONDAY
    assert (row.planned_hours, row.planned_breaks, row.breaks_taken) == ("7 h 30", 3, 1)
