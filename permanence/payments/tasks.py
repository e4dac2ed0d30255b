"""Worker tasks: process a stored provider event; the scheduler job that recovers the ones
stored but not processed (a crash between storing and processing, a failed attempt)."""

from __future__ import annotations

from django_tasks import task


@task()
def process_provider_event(event_pk: int) -> str:
    from .events import event_process

    return event_process(event_pk)


@task()
def reprocess_provider_events() -> int:
    from .events import events_reprocess_pending

    return events_reprocess_pending()
