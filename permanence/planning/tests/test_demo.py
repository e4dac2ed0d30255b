"""The demo planning: 7 days out of 7 this week and next, four pulse answers last month
(shown), nothing written twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from permanence.core import clock
from permanence.planning import selectors
from permanence.planning.demo import seed_planning
from permanence.planning.models import PulseResponse, Shift

pytestmark = pytest.mark.django_db


def test_the_demo_planning_covers_every_day_and_is_idempotent(make_user: Any) -> None:
    make_user("agent@permanence.test", "agent")
    make_user("agent2@permanence.test", "agent")
    with clock.frozen(datetime(2026, 3, 4, 9, tzinfo=UTC)):
        assert seed_planning() == 2 * 13 + 4  # 6 + 7 shifts a week, 4 answers
        assert seed_planning() == 0
        monday = selectors.week_start(clock.now().date())
        for week in (monday, monday + timedelta(days=7)):
            days = set(Shift.objects.filter(day__gte=week, day__lt=week + timedelta(days=7))
                       .values_list("day", flat=True))
            assert len(days) == 7
        [february] = selectors.pulse_results(today=clock.now().date())
        assert february.shown and february.satisfaction_rate == 75.0
    assert PulseResponse.objects.count() == 4
