from __future__ import annotations

from django_tasks import task

from permanence.core import background

from .services import DELIVER_TASK, webhook_deliver
from .services import webhooks_sweep as sweep


@background.register(DELIVER_TASK)
@task()
def deliver_webhook(delivery_id: int, attempt: int = 1) -> str:
    """One attempt of a webhook delivery; a failure re-enqueues the next one with back-off."""
    return webhook_deliver(delivery_id, attempt)


@task()
def webhooks_sweep() -> str:
    """Periodic: re-enqueue lost retries, prune the delivery log."""
    result = sweep()
    return f"requeued {result['requeued']}, pruned {result['pruned']}"
