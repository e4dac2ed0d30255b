"""The shop tests' dates were written in the opening-hours clock ("24 heures ouvrées" = 24
hours of opening slots). They keep that clock — set as the operator's setting, in the
database — and the seeded jours-ouvrés reading (one working day) of the order deadlines is
tested in permanence/inbox/tests/test_sla_clock.py."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _operator_clock_in_opening_hours(request: pytest.FixtureRequest) -> None:
    names = set(request.fixturenames)
    if "transactional_db" in names:
        request.getfixturevalue("transactional_db")
    elif "db" in names:
        request.getfixturevalue("db")
    elif request.node.get_closest_marker("django_db"):
        request.getfixturevalue("_django_db_helper")
    else:
        return
    from permanence.core import local_cache
    from permanence.core.business_time import OPENING_HOURS
    from permanence.inbox import sla
    from permanence.inbox.models import SlaPolicy

    SlaPolicy.objects.filter(pk=sla.ensure_default_policy().pk).update(clock=OPENING_HOURS)
    local_cache.invalidate()
