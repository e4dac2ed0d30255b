from __future__ import annotations

from django_tasks import task


@task()
def deliver_webhook(delivery_id: int, attempt: int = 1) -> str:
    """One attempt of a webhook delivery; a failure re-enqueues the next one with back-off."""
    from .services import webhook_deliver

    return webhook_deliver(delivery_id, attempt)


@task()
def webhooks_sweep() -> str:
    """Periodic: re-enqueue lost retries, prune the delivery log."""
    from .services import webhooks_sweep as sweep

    result = sweep()
    return f"requeued {result['requeued']}, pruned {result['pruned']}"
