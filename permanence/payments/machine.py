"""The payment state machine: PAYMENT_TRANSITIONS (beside the model) driven by the kernel's
helper (core/transitions.py).

`payment_transition` is the only code that changes a payment's status: it locks the payment,
validates the move against the table, stamps it (when it succeeded, why it failed), appends a
PaymentStatusChange and returns the locked payment. Callers that also move the order lock the
order first (order → payment: the lock order of every payment service)."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from permanence.accounts.models import User
from permanence.core.transitions import Machine, transition

from .models import PAYMENT_TRANSITIONS, Payment, PaymentStatus, PaymentStatusChange

PAYMENT_MACHINE: Machine[Payment] = Machine(
    model=Payment, transitions=PAYMENT_TRANSITIONS, history_model=PaymentStatusChange,
    history_fk="payment", status_choices=PaymentStatus, ref_field="idempotency_key")


def payment_can(payment: Payment, to: str) -> bool:
    """May `payment` move to `to` now? (False when it is already there.)"""
    return PAYMENT_MACHINE.can(payment.status, to)


@transaction.atomic
def payment_transition(*, payment: Payment | int, to: str, actor: User | None = None, note: str = "",
                       failure_message: str = "", now: datetime | None = None) -> Payment:
    """Move `payment` to `to` (validated against PAYMENT_TRANSITIONS), or raise DomainError
    (409). Succeeded: stamps succeeded_at and clears the failure message; failed: records
    `failure_message`. Moving to the status it has is a no-op."""

    def stamp(obj: Payment, previous: str, to: str, actor: User | None, at: datetime) -> None:
        if to == PaymentStatus.SUCCEEDED:
            obj.succeeded_at = at
            obj.failure_message = ""
        elif to == PaymentStatus.FAILED:
            obj.failure_message = failure_message[:300]

    return transition(PAYMENT_MACHINE, instance=payment, to=to, actor=actor, note=note,
                      stamp=stamp, now=now).instance
