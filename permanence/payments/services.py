"""Payments: starting a payment for an order (Stripe hosted Checkout or bank transfer),
matching a bank transfer, refunding, re-processing a provider event.

Card data never reaches our servers: the buyer pays on Stripe's hosted Checkout page and we
learn the outcome from signed webhooks (see events.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from permanence.audit.models import AuditEvent
from permanence.audit.services import audit_record
from permanence.core import clock
from permanence.core.errors import DomainError, invalid
from permanence.core.money import format_eur, ttc_cents
from permanence.shop.models import ORDER_RANK, Order, OrderStatus, PaymentMethod
from permanence.shop.orders import lock_order, order_transition

from . import stripe_client
from .models import Payment, PaymentStatus, Provider, ProviderEvent

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
    failure gets a new idempotency key, hence a new session. The provider call happens with the
    order row locked; if it fails nothing is written (DomainError, 502/503)."""
    if method not in PaymentMethod.values:
        raise invalid(method=_("Moyen de paiement inconnu."))
    with transaction.atomic():
        locked = lock_order(order)
        if locked.status not in PAYABLE:
            raise DomainError("not_payable", _(
                "La commande %(ref)s n'est pas en attente de paiement (« %(status)s »).") % {
                    "ref": locked.reference,
                    "status": OrderStatus(locked.status).label}, status=409)
        if locked.total_ttc_cents <= 0:
            raise DomainError("not_payable", _("Cette commande n'a rien à payer."), status=409)
        existing = list(Payment.objects.filter(order=locked).order_by("-attempt", "-pk"))
        reusable = _reusable(existing, method, locked)
        if reusable is not None:
            return reusable
        attempt = (existing[0].attempt + 1) if existing else 1
        key = idempotency_key_for(locked, attempt)
        now = clock.now()
        payment = Payment(order=locked, method=method, status=PaymentStatus.PENDING,
                          amount_cents=locked.total_ttc_cents, currency="EUR",
                          idempotency_key=key, attempt=attempt, created_at=now)
        if method == PaymentMethod.TRANSFER:
            payment.provider = Provider.TRANSFER
        else:
            payment.provider = Provider.STRIPE
            session = stripe_client.checkout_session_create(
                checkout_params(locked, method, attempt=attempt, key=key,
                                success_url=success_url, cancel_url=cancel_url),
                idempotency_key=key)
            payment.provider_session_id = str(session["id"])[:120]
            payment.checkout_url = str(session.get("url") or "")[:500]
            intent = session.get("payment_intent")
            payment.provider_payment_id = intent[:120] if isinstance(intent, str) else ""
            customer = session.get("customer")
            payment.provider_customer_id = customer[:120] if isinstance(customer, str) else ""
        payment.save()
        audit_record(actor=locked.buyer, action=AuditEvent.Action.CREATE, target=payment,
                     account=locked.account,
                     changes={"method": method, "amount_cents": payment.amount_cents,
                              "attempt": attempt})
        return payment


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


def transfer_instructions(order: Order) -> dict[str, Any]:
    """What the buyer needs to pay by transfer: beneficiary, IBAN, amount, reference."""
    from permanence.accounts.models import OperatorIdentity

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


def transfer_match(*, actor: Any, order: Order | str, amount_cents: int,
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
        if ORDER_RANK[locked.status] >= ORDER_RANK[OrderStatus.PAID]:  # type: ignore[index]
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
                              method=PaymentMethod.TRANSFER, amount_cents=amount_cents,
                              idempotency_key=idempotency_key_for(locked, attempt),
                              attempt=attempt, created_at=now)
        payment.status = PaymentStatus.SUCCEEDED
        payment.amount_cents = amount_cents
        payment.succeeded_at = now
        payment.matched_by = actor
        payment.bank_label = bank_label[:200]
        payment.save()
        audit_record(actor=actor, action=AuditEvent.Action.UPDATE, target=payment,
                     account=locked.account,
                     changes={"status": [PaymentStatus.PENDING, PaymentStatus.SUCCEEDED],
                              "bank_label": bank_label[:200]})
        order_transition(order=locked, to=OrderStatus.PAID, actor=actor,
                         note=_("Virement rapproché : %(label)s") % {"label": bank_label[:200]})
        return payment


def payment_refund(*, actor: Any, payment: Payment) -> dict[str, Any]:
    """Ask Stripe to refund a paid card/SEPA payment in full. The payment and the order move
    when Stripe's charge.refunded event arrives."""
    with transaction.atomic():
        order = lock_order(payment.order_id)
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        if payment.provider != Provider.STRIPE:
            raise DomainError("not_refundable", _(
                "Un virement se rembourse par virement depuis la banque."), status=409)
        if payment.status != PaymentStatus.SUCCEEDED or not payment.provider_payment_id:
            raise DomainError("not_refundable", _(
                "Seul un paiement réussi peut être remboursé."), status=409)
        refund = stripe_client.refund_create(
            {"payment_intent": payment.provider_payment_id,
             "metadata": {"order_reference": order.reference, "payment_id": str(payment.pk)}},
            idempotency_key=f"perm-refund-{payment.pk}-full")
        audit_record(actor=actor, action=AuditEvent.Action.UPDATE, target=payment,
                     account=order.account,
                     changes={"refund_requested": payment.amount_cents,
                              "refund_id": str(refund.get("id", ""))})
        return refund


def provider_event_retry(*, actor: Any, event: ProviderEvent) -> str:
    """Staff: process a stored event again now (after fixing what made it fail)."""
    from .events import event_process

    if event.processed_at is not None:
        raise DomainError("already_processed", _("Cet événement a déjà été traité."),
                          status=409)
    with transaction.atomic():
        audit_record(actor=actor, action=AuditEvent.Action.UPDATE, target=None,
                     changes={"provider_event_retry": event.event_id})
    return event_process(event.pk)
