"""What payments tells the apps above it about invoice payments. Payments sits below billing
and recovery (it may not import them): they register here in their AppConfig.ready(), as
billing does in shop.hooks for orders.

An invoice payment (Payment.invoice_number set, no order) reports its outcome through
`invoice_payment_outcome`, inside the transaction that moved the payment (the event's
processing, a matched transfer): the hook's writes commit with it or not at all."""

from __future__ import annotations

from typing import Protocol

from .models import Payment


class Outcome:
    SUCCEEDED = "succeeded"  # the money arrived (card, SEPA settled, checkout, transfer)
    FAILED = "failed"  # declined, or a SEPA debit rejected before settlement
    RETURNED = "returned"  # a succeeded debit reversed weeks later (SEPA dispute)


class InvoicePaymentHook(Protocol):
    def __call__(self, *, payment: Payment, outcome: str, note: str) -> object: ...


_HOOKS: list[InvoicePaymentHook] = []


def register_invoice_payment_hook(hook: InvoicePaymentHook) -> None:
    if hook not in _HOOKS:
        _HOOKS.append(hook)


def invoice_payment_outcome(*, payment: Payment, outcome: str, note: str = "") -> None:
    for hook in _HOOKS:
        hook(payment=payment, outcome=outcome, note=note)
