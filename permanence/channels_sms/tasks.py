"""Worker tasks of the SMS channel: send one SMS, process one stored webhook, and the
periodic sweeps that recover what a crash or a lost wake-up left behind.

services.py and events.py enqueue by name (core.background), never importing this module."""

from __future__ import annotations

import logging

from django_tasks import task

from permanence.core import background

from .events import PROCESS_EVENT_TASK, event_process, events_reprocess_pending
from .services import DISPATCH_TASK, sms_dispatch, sms_overdue

logger = logging.getLogger(__name__)


@background.register(DISPATCH_TASK)
@task()
def dispatch(sms_id: int) -> str:
    return sms_dispatch(sms_id)


@background.register(PROCESS_EVENT_TASK)
@task()
def process_event(event_pk: int) -> str:
    return event_process(event_pk)


@task()
def reprocess_events() -> int:
    """Periodic: webhooks stored but not processed (a crash, a receipt that came too early)."""
    return events_reprocess_pending()


@task()
def sweep() -> str:
    """Periodic: queued SMS whose sending was lost (wake-up, retry, a worker that died)."""
    # Not core.isolation.each_isolated: its savepoints would hold a transaction open around
    # the provider call when the backend runs tasks at once (tests, try-outs).
    requeued = 0
    for pk in sms_overdue():
        try:
            dispatch.enqueue(pk)
            requeued += 1
        except Exception:  # one SMS's trouble never stops the others
            logger.exception("channels_sms.sweep: SMS %s could not be requeued", pk)
    return f"requeued {requeued}"
