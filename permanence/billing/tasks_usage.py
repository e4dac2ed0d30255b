"""Billing's usage job (registered with the scheduler in billing.startup): the work done
since the last run metered, and the consumption alerts it triggers sent."""

from __future__ import annotations

from datetime import timedelta

from django_tasks import task

from permanence.core.scheduler import every

from .metering import meter


@task()
def meter_usage() -> dict[str, int]:
    """Calls, forwards, appointments, replies and SMS not metered yet: recorded."""
    return meter()


def register_usage_jobs() -> None:
    every(timedelta(minutes=5), name="billing.meter")(meter_usage)
