"""The agenda's periodic jobs (registered with the scheduler in agenda.startup)."""

from __future__ import annotations

from django_tasks import task

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
