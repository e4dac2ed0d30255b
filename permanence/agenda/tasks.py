"""The agenda's periodic jobs (registered with the scheduler in agenda.startup)."""

from __future__ import annotations

from typing import Any

from django_tasks import task

from permanence.core import background
from permanence.core.isolation import each_isolated

from .caldav_sync import resource_sync, resources_to_sync
from .notify import SYNC_TASK
from .reminders import reminders_send
from .services import holds_expire


@task()
def send_reminders() -> int:
    """E-mail and SMS reminders that are due."""
    return reminders_send()


@task()
def expire_holds() -> int:
    """Holds taken during calls that ran out (the slots are free again)."""
    return holds_expire()


@background.register(SYNC_TASK)
@task()
def sync_resource(resource_id: int) -> dict[str, Any]:
    """Two-way CalDAV sync of one resource (after a booking, and from sync_calendars)."""
    return resource_sync(resource_id)


@task()
def sync_calendars() -> int:
    """Every resource with a CalDAV calendar: one sync task each, enqueued once the
    savepoint of `each_isolated` commits — the sync talks to a server and must not run
    inside a transaction; one resource failing never stops the others."""
    outcome = each_isolated(list(resources_to_sync()),
                            lambda pk: background.enqueue_on_commit(SYNC_TASK, pk),
                            job="agenda.caldav_sync")
    return len(outcome.results)
