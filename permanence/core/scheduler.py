"""Periodic jobs, registered in code. The `scheduler` command enqueues them when due.

Several scheduler processes may run (one per machine): each due job is claimed with a
conditional UPDATE on ScheduledJobRun, so it is enqueued once per period.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction

from . import clock
from .isolation import each_isolated
from .models import ScheduledJobRun
from .tasks import record_scheduler_tick


@dataclass(frozen=True)
class Job:
    name: str
    every: timedelta
    task: Any  # a django_tasks Task


REGISTRY: dict[str, Job] = {}


def every(interval: timedelta, *, name: str | None = None) -> Any:
    def register(task_obj: Any) -> Any:
        job_name = name or task_obj.name
        REGISTRY[job_name] = Job(job_name, interval, task_obj)
        return task_obj

    return register


def register_builtin_jobs() -> None:

    every(timedelta(minutes=1), name="core.scheduler_tick")(record_scheduler_tick)


def claim(job: Job) -> bool:
    """True if this process won the right to run `job` now."""
    now = clock.now()
    due_before = now - job.every
    try:
        with transaction.atomic():
            row, created = ScheduledJobRun.objects.get_or_create(
                job=job.name, defaults={"last_run_at": now}
            )
    except IntegrityError:  # another scheduler created it first
        return False
    if created:
        return True
    updated = ScheduledJobRun.objects.filter(
        job=job.name, last_run_at__lte=due_before
    ).update(last_run_at=now)
    return updated == 1


def run_due_jobs() -> list[str]:
    """Enqueue the due jobs; one job failing to enqueue (or, with an immediate backend, to
    run) is logged and never stops the others."""

    def run(job: Job) -> str | None:
        if claim(job):
            job.task.enqueue()
            return job.name
        return None

    outcome = each_isolated(list(REGISTRY.values()), run, job="scheduler",
                            key=lambda job: job.name)
    return [name for name in outcome.results if name]
