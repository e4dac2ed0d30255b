"""The desk's periodic jobs (registered with the scheduler in desk.startup): call events
stored but not processed, break reminders, the clients' daily digests."""

from __future__ import annotations

from django_tasks import task

from .agents import break_reminders
from .digest import digests_send
from .processing import events_process_pending


@task()
def process_events() -> int:
    """Calls whose events were stored but not processed (a crash, a failure): processed."""
    return events_process_pending()


@task()
def remind_breaks() -> int:
    """Seed 001: a 10-minute break proposed after 2 hours of calls without one."""
    return break_reminders()


@task()
def send_digests() -> int:
    """The espace client's daily digests due now (each account's morning)."""
    return digests_send()
