"""Worker tasks: process a stored provider event; the scheduler job that recovers the ones
stored but not processed (a crash between storing and processing, a failed attempt).

The tasks call events.py; events.py enqueues by name (core.background), never importing this
module."""

from __future__ import annotations

from django_tasks import task

from permanence.core import background

from .events import PROCESS_EVENT_TASK, event_process, events_reprocess_pending


@background.register(PROCESS_EVENT_TASK)
@task()
def process_provider_event(event_pk: int) -> str:
    return event_process(event_pk)


@task()
def reprocess_provider_events() -> int:
    return events_reprocess_pending()
