"""Payments: starting a payment for an order (Stripe hosted Checkout or bank transfer),
matching a bank transfer, refunding, re-processing a provider event.

Card data never reaches our servers: the buyer pays on Stripe's hosted Checkout page and we
learn the outcome from signed webhooks (see events.py)."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from permanence.accounts.models import OperatorIdentity, User
from permanence.audit.actions import Action
from permanence.audit.services import audit_record
from permanence.core import clock
from permanence.core.errors import DomainError, invalid
from permanence.core.money import format_eur, ttc_cents
from permanence.shop.models import Order, OrderStatus, PaymentMethod
from permanence.shop.orders import PAID_OR_LATER, lock_order, order_transition

from . import stripe_client
from .events import event_process
from .machine import payment_transition
from .models import (
    Payment,
    PaymentStatus,
    Provider,
    ProviderCall,
    ProviderCallKind,
    ProviderCallStatus,
    ProviderEvent,
)
from .provider_calls import as_sent as _as_sent
from .provider_calls import call_failed as _call_failed
from .provider_calls import call_succeeded as _call_succeeded

logger = logging.getLogger(__name__)

PAYABLE = (OrderStatus.AWAITING_PAYMENT, OrderStatus.FAILED)
# Stripe Checkout Sessions expire after 24 hours: an older pending session is not reused.
SESSION_REUSE_WINDOW = timedelta(hours=23)
STRIPE_METHOD_TYPES = {PaymentMethod.CARD: ["card"], PaymentMethod.SEPA: ["sepa_debit"]}


def idempotency_key_for(order: Order, attempt: int) -> str:
    """Stable for one order and attempt (a retry after our own crash replays the provider's
    answer), distinct for an order re-created after a rollback or a database reset (the
    creation instant is part of it: primary keys and references can be reused then)."""
    created = int(order.created_at.timestamp() * 1_000_000)
    return f"perm-{order.reference}-{created}-a{attempt}"


def _line_items(order: Order) -> list[dict[str, Any]]:
    """One Checkout line per order line (TTC, quantity folded into the label so the amounts
    stay exact); the last line absorbs the per-rate rounding so the sum is the order's TTC."""
    lines = list(order.lines.all())
    items: list[dict[str, Any]] = []
    for line in lines:
        amount = ttc_cents(line.total_ht_cents, line.vat_rate)
        name = line.label if line.quantity == 1 else f"{line.quantity} × {line.label}"
        items.append({"quantity": 1, "price_data": {
            "currency": "eur", "unit_amount": amount,
            "product_data": {"name": name[:250]}}})
    difference = order.total_ttc_cents - sum(i["price_data"]["unit_amount"] for i in items)
    if items and items[-1]["price_data"]["unit_amount"] + difference > 0:
        items[-1]["price_data"]["unit_amount"] += difference
    else:
        items = [{"quantity": 1, "price_data": {
            "currency": "eur", "unit_amount": order.total_ttc_cents,
            "product_data": {"name": _("Commande %(ref)s") % {"ref": order.reference}}}}]
    return items


def checkout_params(order: Order, method: str, *, attempt: int, key: str, success_url: str,
                    cancel_url: str) -> dict[str, Any]:
    metadata = {"order_reference": order.reference, "order_id": str(order.pk),
                "attempt": str(attempt), "idempotency_key": key}
    return {
        "mode": "payment",
        "payment_method_types": STRIPE_METHOD_TYPES[method],  # type: ignore[index]
        "line_items": _line_items(order),
        "currency": "eur",
        "customer_creation": "always",
        "customer_email": order.billing_email,
        "client_reference_id": order.reference,
        "metadata": metadata,
        # Keep the payment method for the monthly debits (recurring billing, off session).
        "payment_intent_data": {"setup_future_usage": "off_session", "metadata": metadata,
                                "description": _("Commande %(ref)s") % {
                                    "ref": order.reference}},
        "locale": "fr",
        "success_url": success_url,
        "cancel_url": cancel_url,
    }


def payment_start(*, order: Any, method: str, success_url: str, cancel_url: str) -> Payment:
    """Start paying `order` with `method` (shop.PaymentMethod: carte, sepa, virement).

    Card / SEPA: creates a Stripe Checkout Session (idempotency key) and returns the Payment
    whose `checkout_url` the buyer is redirected to. Transfer: returns a pending Payment; the
    buyer is shown the instructions (IBAN, order.transfer_reference).

    A double click returns the same pending Payment (and session); a new attempt after a
    failure gets a new idempotency key, hence a new session.

    No transaction is open while Stripe is called (stripe_client refuses it; call this with
    none open): (1) a short transaction locks the order, checks it and writes a pending
    ProviderCall (key + parameters), committed; (2) Stripe is called; (3) a second short
    transaction records the answer — the Payment with the session — and returns it. If the
    call fails, no Payment is written: the ProviderCall says why, the caller gets a
    DomainError (502/503), and the next try sends the same key again when the outcome is
    unknown (no answer, or the process died during the call), so Stripe answers with the
    session it may already have created rather than a second one."""
    if method not in PaymentMethod.values:
        raise invalid(method=_("Moyen de paiement inconnu."))
    if method in STRIPE_METHOD_TYPES:
        stripe_client.ensure_no_transaction()  # refused before anything is written
    prepared = _checkout_prepare(order=order, method=method, success_url=success_url,
                                 cancel_url=cancel_url)
    if isinstance(prepared, Payment):
        return prepared
    try:
        session = stripe_client.checkout_session_create(
            _as_sent(prepared.params), idempotency_key=prepared.idempotency_key)
    except BaseException as exc:
        _call_failed(prepared, exc)
        raise
    return _checkout_record(prepared, session)


def _not_payable(order: Order) -> DomainError:
    return DomainError("not_payable", _(
        "La commande %(ref)s n'est pas en attente de paiement (« %(status)s »).") % {
            "ref": order.reference, "status": OrderStatus(order.status).label}, status=409)


def _checkout_prepare(*, order: Any, method: str, success_url: str,
                      cancel_url: str) -> Payment | ProviderCall:
    """Transaction 1: the reusable pending Payment or, for a transfer, the new one; for card
    / SEPA, the ProviderCall to send — the one of an attempt whose outcome is unknown, else a
    new attempt — committed before the call."""
    with transaction.atomic():
        locked = lock_order(order)
        if locked.status not in PAYABLE:
            raise _not_payable(locked)
        if locked.total_ttc_cents <= 0:
            raise DomainError("not_payable", _("Cette commande n'a rien à payer."), status=409)
        existing = list(Payment.objects.filter(order=locked).order_by("-attempt", "-pk"))
        reusable = _reusable(existing, method, locked)
        if reusable is not None:
            return reusable
        calls = list(ProviderCall.objects.select_for_update()
                     .filter(order=locked, kind=ProviderCallKind.CHECKOUT_SESSION)
                     .order_by("-attempt", "-pk"))
        now = clock.now()
        retry = _retryable_call(calls, existing, method, locked)
        if retry is not None:
            retry.status = ProviderCallStatus.PENDING
            retry.tries += 1
            retry.save(update_fields=["status", "tries", "updated_at"])
            return retry
        attempt = max([p.attempt for p in existing] + [c.attempt for c in calls],
                      default=0) + 1
        key = idempotency_key_for(locked, attempt)
        if method == PaymentMethod.TRANSFER:
            payment = Payment.objects.create(
                order=locked, method=method, status=PaymentStatus.PENDING,
                provider=Provider.TRANSFER, amount_cents=locked.total_ttc_cents,
                currency="EUR", idempotency_key=key, attempt=attempt, created_at=now)
            _audit_payment_created(payment, locked)
            return payment
        return ProviderCall.objects.create(
            provider=Provider.STRIPE, kind=ProviderCallKind.CHECKOUT_SESSION, order=locked,
            method=method, attempt=attempt, amount_cents=locked.total_ttc_cents,
            idempotency_key=key, tries=1, actor=_user_or_none(locked.buyer), created_at=now,
            params=checkout_params(locked, method, attempt=attempt, key=key,
                                   success_url=success_url, cancel_url=cancel_url))


def _reusable(existing: list[Payment], method: str, order: Order) -> Payment | None:
    """The pending payment of the latest attempt, if it is for the same method (and, for
    Stripe, its session is still open): a double click, or the buyer coming back."""
    if not existing:
        return None
    latest = existing[0]
    if latest.method != method or latest.status != PaymentStatus.PENDING:
        return None
    if latest.amount_cents != order.total_ttc_cents:
        return None
    if latest.provider == Provider.STRIPE and (
            not latest.checkout_url or latest.created_at < clock.now() - SESSION_REUSE_WINDOW):
        return None
    return latest


def _retryable_call(calls: list[ProviderCall], existing: list[Payment], method: str,
                    order: Order) -> ProviderCall | None:
    """The latest attempt's call, if its outcome is unknown (pending: sent, no answer
    recorded; unanswered) and it still fits: same method and amount, no Payment of that or a
    later attempt, young enough for Stripe to still know its key."""
    if not calls:
        return None
    latest = calls[0]
    if latest.status not in (ProviderCallStatus.PENDING, ProviderCallStatus.UNANSWERED):
        return None
    if latest.payment_id is not None or any(p.attempt >= latest.attempt for p in existing):
        return None
    if latest.method != method or latest.amount_cents != order.total_ttc_cents:
        return None
    if latest.created_at < clock.now() - SESSION_REUSE_WINDOW:
        return None
    return latest


def _checkout_record(call: ProviderCall, session: dict[str, Any]) -> Payment:
    """Transaction 2: the Payment with the session the buyer is sent to."""
    with transaction.atomic():
        locked = lock_order(call.order_id) if call.order_id is not None else None
        call = ProviderCall.objects.select_for_update().get(pk=call.pk)
        if call.payment_id is not None:  # a concurrent try of the same call recorded it
            return Payment.objects.get(pk=call.payment_id)
        _call_succeeded(call, session)
        if locked is None or locked.status not in PAYABLE:
            # Paid or cancelled meanwhile: the session is never shown and expires unused.
            call.save()
            refusal = (_not_payable(locked) if locked is not None else DomainError(
                "not_payable", _("Cette commande n'existe plus."), status=409))
        else:
            return _payment_from_session(call, locked, session)
    raise refusal


def _payment_from_session(call: ProviderCall, order: Order,
                          session: dict[str, Any]) -> Payment:
    intent = session.get("payment_intent")
    customer = session.get("customer")
    payment = Payment.objects.create(
        order=order, method=call.method, status=PaymentStatus.PENDING,
        provider=Provider.STRIPE, amount_cents=call.amount_cents, currency="EUR",
        idempotency_key=call.idempotency_key, attempt=call.attempt, created_at=clock.now(),
        provider_session_id=str(session["id"])[:120],
        checkout_url=str(session.get("url") or "")[:500],
        provider_payment_id=intent[:120] if isinstance(intent, str) else "",
        provider_customer_id=customer[:120] if isinstance(customer, str) else "")
    call.payment = payment
    call.save()
    _audit_payment_created(payment, order)
    return payment


def _audit_payment_created(payment: Payment, order: Order) -> None:
    audit_record(actor=order.buyer, action=Action.CREATE, target=payment,
                 account=order.account,
                 changes={"method": payment.method, "amount_cents": payment.amount_cents,
                          "attempt": payment.attempt})


def _user_or_none(user: User | None) -> User | None:
    return user if getattr(user, "pk", None) else None


def transfer_instructions(order: Order) -> dict[str, Any]:
    """What the buyer needs to pay by transfer: beneficiary, IBAN, amount, reference."""
    operator = OperatorIdentity.objects.filter(pk=1).first()
    return {
        "beneficiary": operator.legal_name if operator else "",
        "iban": operator.iban if operator else "",
        "amount_cents": order.total_ttc_cents,
        "amount": format_eur(order.total_ttc_cents),
        "reference": order.transfer_reference or order.reference,
    }


def _find_order_for_transfer(reference: str) -> Order | None:
    ref = "".join(reference.split()).upper()
    if not ref:
        return None
    return (Order.objects.filter(transfer_reference__iexact=ref).first()
            or Order.objects.filter(reference__iexact=ref).first())


def transfer_match(*, actor: User, order: Order | str, amount_cents: int,
                   bank_label: str = "") -> Payment:
    """Billing staff found a transfer on the bank statement: the order (or its transfer
    reference) is paid. A wrong amount is refused (field error), nothing changes."""
    if isinstance(order, str):
        found = _find_order_for_transfer(order)
        if found is None:
            raise invalid(reference=_("Aucune commande avec cette référence."))
        order = found
    with transaction.atomic():
        locked = lock_order(order)
        if locked.status in PAID_OR_LATER:
            raise DomainError("already_paid", _(
                "La commande %(ref)s n'est plus en attente de paiement (« %(status)s »).") % {
                    "ref": locked.reference,
                    "status": OrderStatus(locked.status).label}, status=409)
        if amount_cents != locked.total_ttc_cents:
            raise invalid(amount=_("Montant différent de la commande : %(expected)s attendus, "
                                   "%(got)s reçus.") % {
                "expected": format_eur(locked.total_ttc_cents),
                "got": format_eur(amount_cents)})
        now = clock.now()
        payment = (Payment.objects.select_for_update()
                   .filter(order=locked, provider=Provider.TRANSFER,
                           status=PaymentStatus.PENDING).order_by("-attempt").first())
        if payment is None:
            last = Payment.objects.filter(order=locked).order_by("-attempt").first()
            attempt = last.attempt + 1 if last else 1
            payment = Payment(order=locked, provider=Provider.TRANSFER,
                              method=PaymentMethod.TRANSFER, status=PaymentStatus.PENDING,
                              idempotency_key=idempotency_key_for(locked, attempt),
                              attempt=attempt, created_at=now)
        payment.amount_cents = amount_cents
        payment.matched_by = actor
        payment.bank_label = bank_label[:200]
        payment.save()
        payment = payment_transition(payment=payment, to=PaymentStatus.SUCCEEDED, actor=actor,
                                     note=bank_label, now=now)
        audit_record(actor=actor, action=Action.UPDATE, target=payment,
                     account=locked.account,
                     changes={"status": [PaymentStatus.PENDING, PaymentStatus.SUCCEEDED],
                              "bank_label": bank_label[:200]})
        order_transition(order=locked, to=OrderStatus.PAID, actor=actor,
                         note=_("Virement rapproché : %(label)s") % {"label": bank_label[:200]})
        return payment


def payment_refund(*, actor: User, payment: Payment, amount_cents: int | None = None,
                   reference: str = "full",
                   metadata: dict[str, str] | None = None) -> dict[str, Any]:
    """Ask Stripe to refund a paid card/SEPA payment, in full or (`amount_cents`) in part —
    an order's payment or an invoice's (no order; billing refunds a credit note through it,
    `reference` naming that refund). The payment and the order move when Stripe's
    charge.refunded event arrives.

    Like payment_start, Stripe is called with no transaction open: a pending ProviderCall
    (one per payment and reference, key `perm-refund-<pk>-<reference>`) is committed first,
    the answer recorded after. Asking again sends the same key (Stripe answers with the same
    refund), unless the refund's answer is already recorded: then it is returned without a
    call."""
    stripe_client.ensure_no_transaction()  # refused before anything is written
    prepared = _refund_prepare(actor=actor, payment=payment, amount_cents=amount_cents,
                               reference=reference, metadata=metadata or {})
    if prepared.status == ProviderCallStatus.SUCCEEDED:
        return dict(prepared.response)
    try:
        refund = stripe_client.refund_create(_as_sent(prepared.params),
                                             idempotency_key=prepared.idempotency_key)
    except BaseException as exc:
        _call_failed(prepared, exc)
        raise
    with transaction.atomic():
        call = ProviderCall.objects.select_for_update().get(pk=prepared.pk)
        _call_succeeded(call, refund)
        call.save()
        order = (Order.objects.select_related("account").get(pk=payment.order_id)
                 if payment.order_id is not None else None)
        audit_record(actor=actor, action=Action.UPDATE, target=payment,
                     account=order.account if order is not None else None,
                     changes={"refund_requested": call.amount_cents,
                              "refund_id": str(refund.get("id", ""))})
    return refund


def _refund_prepare(*, actor: User, payment: Payment, amount_cents: int | None,
                    reference: str, metadata: dict[str, str]) -> ProviderCall:
    """Transaction 1 of a refund: checks, then the call to send (new, or the same again)."""
    with transaction.atomic():
        order = lock_order(payment.order_id) if payment.order_id is not None else None
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        if payment.provider != Provider.STRIPE:
            raise DomainError("not_refundable", _(
                "Un virement se rembourse par virement depuis la banque."), status=409)
        if payment.status != PaymentStatus.SUCCEEDED or not payment.provider_payment_id:
            raise DomainError("not_refundable", _(
                "Seul un paiement réussi peut être remboursé."), status=409)
        key = f"perm-refund-{payment.pk}-{reference}"[:64]
        call = ProviderCall.objects.select_for_update().filter(idempotency_key=key).first()
        if call is None:
            amount = payment.amount_cents if amount_cents is None else amount_cents
            if not 0 < amount <= payment.amount_cents - payment.refunded_cents:
                raise DomainError("not_refundable", _(
                    "Montant à rembourser invalide (au plus %(max)s).") % {
                        "max": format_eur(payment.amount_cents - payment.refunded_cents)},
                    status=422)
            params: dict[str, Any] = {
                "payment_intent": payment.provider_payment_id,
                "metadata": {**metadata, "payment_id": str(payment.pk),
                             **({"order_reference": order.reference} if order else
                                {"invoice_number": payment.invoice_number})}}
            if amount_cents is not None:
                params["amount"] = amount
            return ProviderCall.objects.create(
                provider=Provider.STRIPE, kind=ProviderCallKind.REFUND, order=order,
                invoice_number=payment.invoice_number, payment=payment,
                method=payment.method, amount_cents=amount, idempotency_key=key, tries=1,
                actor=_user_or_none(actor), created_at=clock.now(), params=params)
        if call.status != ProviderCallStatus.SUCCEEDED:
            call.status = ProviderCallStatus.PENDING
            call.tries += 1
            call.save(update_fields=["status", "tries", "updated_at"])
        return call


def provider_event_retry(*, actor: User, event: ProviderEvent) -> str:
    """Staff: process a stored event again now (after fixing what made it fail)."""
    if event.processed_at is not None:
        raise DomainError("already_processed", _("Cet événement a déjà été traité."),
                          status=409)
    with transaction.atomic():
        audit_record(actor=actor, action=Action.UPDATE, target=None,
                     changes={"provider_event_retry": event.event_id})
    return event_process(event.pk)
