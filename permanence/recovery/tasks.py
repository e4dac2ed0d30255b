"""Recovery's scheduler jobs (registered in startup.py): charging invoices due and retrying
(hourly), reminders, suspensions and past-due invoices (daily)."""

from __future__ import annotations

from django_tasks import task

from .charges import charges_run
from .services import dunning_run


@task()
def charges_job() -> dict[str, int]:
    return charges_run()


@task()
def dunning_job() -> dict[str, int]:
    return dunning_run()
