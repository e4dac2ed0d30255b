"""Provider events (Stripe webhooks): stored first, acknowledged, then processed by the worker.

- `event_receive` stores the verified event once per (provider, event id): a redelivery, even
  a concurrent one, hits the unique constraint and is acknowledged without a second row.
  Processing is enqueued after the commit, by name (core.background: this module does not
  import tasks.py, which calls it); if the process dies before that, the scheduler job
  `events_reprocess_pending` finds the event (processed_at is NULL) and processes it.
- `event_process` locks the event row (one processor at a time), then the order, then the
  payment (the same order → payment lock order as every other payment service), applies the
  event and stamps processed_at. A failure is recorded (attempts, last_error) and retried by
  the scheduler job.

State rules (events may arrive in any order). The payment's moves are PAYMENT_TRANSITIONS'
(models.py): a move the table refuses leaves the payment as it is ("payment stays …"), so
states only move forward. The order moves through shop.orders.order_transition, when its own
machine allows it:
- checkout.session.completed, payment_status "paid" (card) → payment succeeded, order payée
  (unless already paid or past it: PAID_OR_LATER).
- checkout.session.completed, "unpaid" (SEPA debit submitted) → payment en cours, order
  paiement_en_cours — only from a pending payment, so a late "completed" never moves a payment
  that already succeeded or failed back.
- checkout.session.async_payment_succeeded → succeeded / payée.
- checkout.session.async_payment_failed, payment_intent.payment_failed → payment échec; the
  order goes to « échec » (with the reason; the e-mail with the retry link is sent by
  shop.order_emails) unless it is already past payment or another attempt of the same order is in
  progress or succeeded.
- checkout.session.expired → the payment is cancelled; the order does NOT move: it stays
  awaiting payment (or in échec) and the buyer can start a new payment. An abandoned hosted
  page is not a payment failure, so no failure e-mail is sent.
- charge.refunded → refunded_cents updated; when fully refunded, payment remboursé and the
  order remboursée (when the order's state table allows it).

A payment of an issued invoice (no order, issue 12) is handled by invoice_events.py.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from permanence.core import background, clock, wire_json
from permanence.shop.models import Order, OrderStatus
from permanence.shop.orders import ORDER_MACHINE, PAID_OR_LATER, lock_order, order_transition

from . import invoice_events
from .machine import payment_can, payment_transition
from .models import Payment, PaymentStatus, Provider, ProviderEvent

logger = logging.getLogger(__name__)

ACTOR_LABEL = "Stripe"
MAX_ATTEMPTS = 10
# The scheduler leaves events this young to the normal path (enqueued on commit).
REPROCESS_AFTER = timedelta(seconds=30)
REPROCESS_BATCH = 200
# The worker task that processes one stored event (tasks.py registers it under this name).
PROCESS_EVENT_TASK = "payments.process_provider_event"


@dataclass
class Received:
    event: ProviderEvent | None
    created: bool


def event_receive(*, provider: str, payload: dict[str, Any]) -> Received:
    """Store a verified event (payload: the provider's JSON) once; enqueue its processing on
    commit. Returns created=False for a redelivery (nothing stored)."""
    payload = wire_json.storable(payload)
    event_id = str(payload.get("id") or "")[:120]
    stored = ProviderEvent.objects.filter(provider=provider, event_id=event_id)
    if stored.exists():
        return Received(None, False)
    try:
        with transaction.atomic():
            event = ProviderEvent.objects.create(
                provider=provider, event_id=event_id, type=str(payload.get("type", ""))[:80],
                payload=payload, created=_created(payload.get("created")),
                received_at=clock.now())
            # A failed enqueue is logged; the scheduler job picks the stored event up.
            background.enqueue_on_commit(PROCESS_EVENT_TASK, event.pk)
    except IntegrityError:  # a concurrent delivery of the same event stored it first
        if not stored.exists():
            raise  # refused for another reason: never acknowledged as if it were kept
        return Received(None, False)
    return Received(event, True)


def _created(timestamp: Any) -> datetime | None:
    """The event's `created` (Unix seconds) as a date; None when it is not one a date can
    hold (a timestamp of the year 300 000 raised OverflowError: found by the property
    tests)."""
    if not isinstance(timestamp, int) or isinstance(timestamp, bool):
        return None
    try:
        return datetime.fromtimestamp(timestamp, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def event_process(event_pk: int) -> str:
    """Apply one stored event (idempotent). Returns what was done."""
    with transaction.atomic():
        event = ProviderEvent.objects.select_for_update().filter(pk=event_pk).first()
        if event is None:
            return "missing"
        if event.processed_at is not None:
            return "already processed"
        event.attempts += 1
        try:
            with transaction.atomic():
                outcome, payment = _apply(event)
        except Exception as exc:  # recorded, retried by the scheduler job
            logger.exception("provider event %s (%s) failed", event.event_id, event.type)
            event.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            event.save(update_fields=["attempts", "last_error"])
            return "error"
        event.processed_at = clock.now()
        event.outcome = outcome[:200]
        event.payment = payment
        event.last_error = ""
        event.save(update_fields=["attempts", "processed_at", "outcome", "payment",
                                  "last_error"])
        return outcome


def events_reprocess_pending(*, older_than: timedelta = REPROCESS_AFTER) -> int:
    """Scheduler job: process events stored but not processed (a crash after storing, a
    failed attempt). Returns how many were processed now."""
    cutoff = clock.now() - older_than
    pks = list(ProviderEvent.objects.filter(
        processed_at__isnull=True, received_at__lte=cutoff, attempts__lt=MAX_ATTEMPTS,
    ).order_by("received_at", "pk").values_list("pk", flat=True)[:REPROCESS_BATCH])
    done = 0
    for pk in pks:
        if event_process(pk) not in ("error", "missing", "already processed"):
            done += 1
    return done


# --- Applying an event -------------------------------------------------------------------------


def _find_payment(event_type: str, obj: dict[str, Any]) -> Payment | None:
    metadata = obj.get("metadata") or {}
    qs = Payment.objects.filter(provider=Provider.STRIPE)
    if event_type.startswith("checkout.session."):
        found = qs.filter(provider_session_id=obj.get("id")).first()
        if found:
            return found
    intent = obj.get("payment_intent") if event_type.startswith(("checkout.", "charge.")) \
        else obj.get("id")
    if isinstance(intent, dict):
        intent = intent.get("id")
    if intent:
        found = qs.filter(provider_payment_id=intent).first()
        if found:
            return found
    key = metadata.get("idempotency_key")
    if key:
        return qs.filter(idempotency_key=key).first()
    return None


def _apply(event: ProviderEvent) -> tuple[str, Payment | None]:
    payload = event.payload if isinstance(event.payload, dict) else {}
    obj = (payload.get("data") or {}).get("object") or {}
    handler = HANDLERS.get(event.type)
    invoice_handler = invoice_events.HANDLERS.get(event.type)
    if handler is None and invoice_handler is None:
        return f"ignored: {event.type}", None
    found = _find_payment(event.type, obj)
    if found is None:
        return "ignored: no matching payment", None
    if found.order_id is None:  # an invoice's payment (issue 12): invoice_events.py
        if invoice_handler is None:
            return f"ignored: {event.type}", found
        payment = Payment.objects.select_for_update().get(pk=found.pk)
        _remember_ids(payment, obj, event.type)
        payment.save()
        return invoice_handler(payment, obj, f"{event.type} ({event.event_id})"), payment
    if handler is None:
        if event.type == "payment_intent.succeeded":
            # A checkout's PaymentIntent: it names the payment method saved for the monthly
            # debits (the session's events do not) — kept for the subscriptions (issue 12).
            payment = Payment.objects.select_for_update().get(pk=found.pk)
            _remember_ids(payment, obj, event.type)
            payment.save()
            return "payment method recorded", payment
        return f"ignored: {event.type}", None
    order = lock_order(found.order_id)
    payment = Payment.objects.select_for_update().get(pk=found.pk)
    _remember_ids(payment, obj, event.type)
    payment.save()  # the provider's ids; the status moves only through payment_transition
    note = f"{event.type} ({event.event_id})"
    return handler(payment, order, obj, note), payment


def _remember_ids(payment: Payment, obj: dict[str, Any], event_type: str) -> None:
    if event_type.startswith("checkout.session."):
        intent = obj.get("payment_intent")
        if isinstance(intent, str) and intent and not payment.provider_payment_id:
            payment.provider_payment_id = intent[:120]
        customer = obj.get("customer")
        if isinstance(customer, str) and customer and not payment.provider_customer_id:
            payment.provider_customer_id = customer[:120]
    elif event_type.startswith("payment_intent."):
        if not payment.provider_payment_id and obj.get("id"):
            payment.provider_payment_id = str(obj["id"])[:120]
        method = obj.get("payment_method")
        if isinstance(method, str) and method and not payment.provider_payment_method_id:
            payment.provider_payment_method_id = method[:120]
        customer = obj.get("customer")
        if isinstance(customer, str) and customer and not payment.provider_customer_id:
            payment.provider_customer_id = customer[:120]


def _move_order(order: Order, to: str, note: str = "") -> None:
    order_transition(order=order, to=to, note=note, actor_label=ACTOR_LABEL)


def _succeed(payment: Payment, order: Order, note: str) -> str:
    parts = []
    if payment_can(payment, PaymentStatus.SUCCEEDED):
        payment_transition(payment=payment, to=PaymentStatus.SUCCEEDED, note=note)
        parts.append("payment succeeded")
    else:
        parts.append("payment already succeeded")
    if order.status not in PAID_OR_LATER:
        _move_order(order, OrderStatus.PAID, _("Paiement reçu (Stripe)."))
        parts.append("order paid")
    else:
        parts.append(f"order stays {order.status}")
    return ", ".join(parts)


def _processing(payment: Payment, order: Order, note: str) -> str:
    if not payment_can(payment, PaymentStatus.PROCESSING):
        return f"payment stays {payment.status}"
    payment_transition(payment=payment, to=PaymentStatus.PROCESSING, note=note)
    if ORDER_MACHINE.can(order.status, OrderStatus.PAYMENT_PROCESSING):
        _move_order(order, OrderStatus.PAYMENT_PROCESSING,
                    _("Mandat SEPA signé, prélèvement en cours."))
        return "payment processing, order paiement_en_cours"
    return f"payment processing, order stays {order.status}"


def _fail(payment: Payment, order: Order, message: str, note: str) -> str:
    if not payment_can(payment, PaymentStatus.FAILED):
        return f"payment stays {payment.status}"
    payment_transition(payment=payment, to=PaymentStatus.FAILED, note=note,
                       failure_message=message)
    other_attempt_alive = Payment.objects.filter(
        order_id=order.pk, status__in=(PaymentStatus.PROCESSING, PaymentStatus.SUCCEEDED),
    ).exclude(pk=payment.pk).exists()
    if ORDER_MACHINE.can(order.status, OrderStatus.FAILED) and not other_attempt_alive:
        _move_order(order, OrderStatus.FAILED, message)
        return "payment failed, order echec"
    return f"payment failed, order stays {order.status}"


def on_session_completed(payment: Payment, order: Order, obj: dict[str, Any],
                         note: str) -> str:
    status = obj.get("payment_status")
    if status in ("paid", "no_payment_required"):
        return _succeed(payment, order, note)
    return _processing(payment, order, note)


def on_async_succeeded(payment: Payment, order: Order, obj: dict[str, Any], note: str) -> str:
    return _succeed(payment, order, note)


def on_async_failed(payment: Payment, order: Order, obj: dict[str, Any], note: str) -> str:
    return _fail(payment, order, _("Le prélèvement SEPA a été rejeté par la banque."), note)


def on_intent_failed(payment: Payment, order: Order, obj: dict[str, Any], note: str) -> str:
    error = obj.get("last_payment_error") or {}
    detail = error.get("message") or error.get("decline_code") or error.get("code") or ""
    message = _("Paiement refusé : %(detail)s") % {"detail": detail} if detail \
        else _("Paiement refusé par la banque.")
    return _fail(payment, order, message, note)


def on_session_expired(payment: Payment, order: Order, obj: dict[str, Any], note: str) -> str:
    if not payment_can(payment, PaymentStatus.CANCELLED):
        return f"payment stays {payment.status}"
    payment_transition(payment=payment, to=PaymentStatus.CANCELLED, note=note)
    return f"payment cancelled (session expired), order stays {order.status}"


def on_charge_refunded(payment: Payment, order: Order, obj: dict[str, Any], note: str) -> str:
    refunded = obj.get("amount_refunded")
    if not isinstance(refunded, int):
        refunded = payment.amount_cents if obj.get("refunded") else payment.refunded_cents
    if refunded > payment.refunded_cents:
        payment.refunded_cents = refunded
        payment.save(update_fields=["refunded_cents", "updated_at"])
    if payment.refunded_cents < payment.amount_cents:
        return f"partial refund {payment.refunded_cents}"
    if not payment_can(payment, PaymentStatus.REFUNDED):
        return "payment already refunded"
    payment_transition(payment=payment, to=PaymentStatus.REFUNDED, note=note)
    if ORDER_MACHINE.can(order.status, OrderStatus.REFUNDED):
        _move_order(order, OrderStatus.REFUNDED, _("Remboursement effectué (Stripe)."))
        return "payment refunded, order remboursee"
    return f"payment refunded, order stays {order.status}"


# (the locked payment, the locked order, the event's object, the history note) → outcome
Handler = Callable[[Payment, Order, dict[str, Any], str], str]

HANDLERS: dict[str, Handler] = {
    "checkout.session.completed": on_session_completed,
    "checkout.session.async_payment_succeeded": on_async_succeeded,
    "checkout.session.async_payment_failed": on_async_failed,
    "payment_intent.payment_failed": on_intent_failed,
    "checkout.session.expired": on_session_expired,
    "charge.refunded": on_charge_refunded,
}
