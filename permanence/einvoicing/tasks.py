"""E-invoicing's background work: the scheduler's jobs (registered in startup) and the one
deposit woken by name after a « Retransmettre » (services never import this module)."""

from __future__ import annotations

from django_tasks import task

from permanence.core import background

from .services import (
    SEND_TASK,
    transmission_send,
    transmissions_poll_due,
    transmissions_report_payments,
    transmissions_send_due,
)


@task()
def transmit_due() -> dict[str, int]:
    """Issued invoices with their PDF stored and no transmission: opened and deposited."""
    return transmissions_send_due()


@task()
def poll_statuses() -> dict[str, int]:
    """The lifecycle statuses of the deposited flows (how many new), then the seller's
    « 212 Encaissée » for the B2B invoices paid since."""
    return {"statuses": transmissions_poll_due(),
            "payments_reported": transmissions_report_payments()}


@background.register(SEND_TASK)
@task()
def transmit_one(transmission_id: int) -> str:
    return transmission_send(transmission_id)
