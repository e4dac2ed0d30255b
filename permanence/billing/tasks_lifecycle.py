"""The subscriptions' daily job (billing/subscriptions.subscriptions_daily), run by the
scheduler: due cancellations, suspensions over, tacit renewals and their reminders."""

from __future__ import annotations

from datetime import timedelta

from django_tasks import task

from permanence.core.scheduler import every

from .subscriptions import today
from .subscriptions_daily import subscriptions_daily


@task()
def subscriptions_daily_job() -> str:
    done = subscriptions_daily(on=today())
    return ", ".join(f"{k}={v}" for k, v in done.items())


def register_lifecycle_jobs() -> None:
    """Called from billing's startup: every day (claimed once per day by the scheduler)."""
    every(timedelta(days=1), name="billing.subscriptions_daily")(subscriptions_daily_job)
