"""Payment schedules' daily job (billing/schedules.schedules_run) and payments' hook for the
outcome of instalment charges, registered from billing's startup."""

from __future__ import annotations

from datetime import timedelta

from django_tasks import task

from permanence.core.scheduler import every
from permanence.payments.hooks import register_invoice_payment_hook

from .schedules import payment_hook, schedules_run


@task()
def schedules_job() -> dict[str, int]:
    return schedules_run()


def register_schedule_jobs() -> None:
    register_invoice_payment_hook(payment_hook)
    every(timedelta(days=1), name="billing.schedules")(schedules_job)
