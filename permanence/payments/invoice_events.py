"""Stripe events about invoice payments (Payment.invoice_number, no order): events.py hands
them here. The payment moves through payment_transition; the outcome goes up through
hooks.invoice_payment_outcome, once per move (a duplicate or late event moves nothing).

- payment_intent.succeeded → succeeded (an off-session charge: a card at once, a SEPA debit
  days later);
- payment_intent.processing → en cours (SEPA debit submitted);
- payment_intent.payment_failed → échec (declined card, SEPA debit rejected before settling);
- checkout.session.completed (paid → succeeded; unpaid → en cours), async_payment_succeeded /
  async_payment_failed, expired → annulé: the client paying through the invoice's retry link;
- charge.dispute.created → retourné: a SEPA Direct Debit reversed by the payer's bank after it
  succeeded (up to 8 weeks, 13 months when unauthorised). Stripe reports these returns as a
  dispute on the charge — SEPA disputes cannot be contested, the funds are withdrawn — so this
  is the event that reopens a paid invoice weeks later;
- charge.refunded → the amount refunded is recorded (a refund is billing's credit note).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext as _

from .charges import (
    apply_intent_status,
    failure_text,
    payment_failed,
    payment_returned,
    payment_succeeded,
)
from .machine import payment_can, payment_transition
from .models import Payment, PaymentStatus


def on_intent(payment: Payment, obj: dict[str, Any], note: str) -> str:
    return apply_intent_status(payment, obj, note=note)


def on_intent_failed(payment: Payment, obj: dict[str, Any], note: str) -> str:
    return payment_failed(payment, message=failure_text(obj), note=note)


def on_session_completed(payment: Payment, obj: dict[str, Any], note: str) -> str:
    if obj.get("payment_status") in ("paid", "no_payment_required"):
        return payment_succeeded(payment, note=note)
    if payment_can(payment, PaymentStatus.PROCESSING):
        payment_transition(payment=payment, to=PaymentStatus.PROCESSING, note=note)
        return "payment processing"
    return f"payment stays {payment.status}"


def on_async_succeeded(payment: Payment, obj: dict[str, Any], note: str) -> str:
    return payment_succeeded(payment, note=note)


def on_async_failed(payment: Payment, obj: dict[str, Any], note: str) -> str:
    return payment_failed(payment, message=_("Le prélèvement SEPA a été rejeté par la banque."),
                          note=note)


def on_session_expired(payment: Payment, obj: dict[str, Any], note: str) -> str:
    if not payment_can(payment, PaymentStatus.CANCELLED):
        return f"payment stays {payment.status}"
    payment_transition(payment=payment, to=PaymentStatus.CANCELLED, note=note)
    return "payment cancelled (session expired)"


def on_dispute(payment: Payment, obj: dict[str, Any], note: str) -> str:
    reason = str(obj.get("reason") or "")
    message = _("Prélèvement retourné par la banque (%(reason)s).") % {"reason": reason} \
        if reason else _("Prélèvement retourné par la banque.")
    return payment_returned(payment, message=message, note=note)


def on_refunded(payment: Payment, obj: dict[str, Any], note: str) -> str:
    refunded = obj.get("amount_refunded")
    if isinstance(refunded, int) and refunded > payment.refunded_cents:
        payment.refunded_cents = refunded
        payment.save(update_fields=["refunded_cents", "updated_at"])
    return f"refunded {payment.refunded_cents}"


InvoiceHandler = Callable[[Payment, dict[str, Any], str], str]

HANDLERS: dict[str, InvoiceHandler] = {
    "payment_intent.succeeded": on_intent,
    "payment_intent.processing": on_intent,
    "payment_intent.payment_failed": on_intent_failed,
    "checkout.session.completed": on_session_completed,
    "checkout.session.async_payment_succeeded": on_async_succeeded,
    "checkout.session.async_payment_failed": on_async_failed,
    "checkout.session.expired": on_session_expired,
    "charge.dispute.created": on_dispute,
    "charge.refunded": on_refunded,
}
