"""Payments of issued invoices (issue 12): the saved card / SEPA mandate charged off session at
the due date, the client's own payment through the invoice's retry link (Stripe Checkout),
a bank transfer matched by billing staff.

Payments sits below billing: an invoice is known here by its number only (Payment and
ProviderCall `invoice_number`, no order). The outcome goes up through hooks.py.

Like payment_start, no provider call is made with a transaction open: (1) a short transaction
writes the pending ProviderCall (idempotency key + parameters) and commits; (2) Stripe is
called; (3) a second short transaction records the answer. A try whose outcome is unknown
(pending: the process died during the call; unanswered) is sent again with the same key and
the same parameters, so Stripe answers with the PaymentIntent it already created: one invoice
attempt is never charged twice.

The answer of a PaymentIntent created with confirm=true already says how it went
(succeeded, processing for SEPA, requires_payment_method when declined): it is applied at
once, with the same transitions as the webhook (`payment_intent.succeeded`,
`payment_intent.payment_failed`), whichever comes first — an event that arrives before the
answer is recorded finds no payment, and the answer must not be lost then."""

from __future__ import annotations

import secrets
from datetime import date, timedelta
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from permanence.accounts.models import User
from permanence.core import clock
from permanence.core.errors import DomainError

from . import stripe_client
from .hooks import Outcome, invoice_payment_outcome
from .machine import payment_can, payment_transition
from .models import (
    Payment,
    PaymentStatus,
    Provider,
    ProviderCall,
    ProviderCallKind,
    ProviderCallStatus,
)
from .provider_calls import as_sent as _as_sent
from .provider_calls import call_failed as _call_failed
from .provider_calls import call_succeeded as _call_succeeded

STRIPE_TYPES = {"carte": "card", "sepa": "sepa_debit"}
UNKNOWN_OUTCOME = (ProviderCallStatus.PENDING, ProviderCallStatus.UNANSWERED)
IN_FLIGHT = (PaymentStatus.PENDING, PaymentStatus.PROCESSING)
# An attempt over (the next one may be made): its payment did not bring the money, or stays.
OVER = (PaymentStatus.FAILED, PaymentStatus.CANCELLED, PaymentStatus.RETURNED,
        PaymentStatus.REFUNDED)
CHECKOUT_REUSE_WINDOW = timedelta(hours=23)


def charge_key(invoice_number: str, salt: str, attempt: int) -> str:
    """One key per invoice and attempt; `salt` (the invoice's creation instant) keeps keys
    distinct for a number given again after a database reset."""
    return f"perm-inv-{invoice_number}-{salt}-a{attempt}"


# --- Off-session charge -------------------------------------------------------------------------


def invoice_charge(*, invoice_number: str, salt: str, amount_cents: int, customer: str,
                   payment_method: str, method: str, description: str) -> Payment:
    """Charge the saved payment method for `invoice_number`, or return the attempt already
    made: one in flight (pending, processing), one that succeeded, or — the same key again —
    one whose outcome is unknown. A new attempt (new key) only when the last one is over
    (failed, returned) or was refused by the provider."""
    if amount_cents <= 0:
        raise DomainError("nothing_due", _("Rien à payer sur cette facture."), status=409)
    if method not in STRIPE_TYPES or not customer or not payment_method:
        raise DomainError("no_saved_method", _(
            "Aucun moyen de paiement enregistré pour ce prélèvement."), status=409)
    stripe_client.ensure_no_transaction()
    prepared = _charge_prepare(invoice_number=invoice_number, salt=salt,
                               amount_cents=amount_cents, customer=customer,
                               payment_method=payment_method, method=method,
                               description=description)
    if isinstance(prepared, Payment):
        return prepared
    try:
        intent = stripe_client.payment_intent_create(
            _as_sent(prepared.params), idempotency_key=prepared.idempotency_key)
    except BaseException as exc:
        _call_failed(prepared, exc)
        raise
    return _charge_record(prepared, intent)


def _charge_prepare(*, invoice_number: str, salt: str, amount_cents: int, customer: str,
                    payment_method: str, method: str,
                    description: str) -> Payment | ProviderCall:
    with transaction.atomic():
        calls = list(ProviderCall.objects.select_for_update()
                     .filter(invoice_number=invoice_number,
                             kind=ProviderCallKind.PAYMENT_INTENT)
                     .order_by("-attempt", "-pk"))
        latest = calls[0] if calls else None
        if latest is not None and latest.status in UNKNOWN_OUTCOME:
            latest.status = ProviderCallStatus.PENDING
            latest.tries += 1
            latest.save(update_fields=["status", "tries", "updated_at"])
            return latest  # the same request, the same key: Stripe replays its answer
        if latest is not None and latest.payment_id is not None:
            payment = Payment.objects.get(pk=latest.payment_id)
            if payment.status not in OVER:
                return payment
        attempt = (latest.attempt + 1) if latest is not None else 1
        key = charge_key(invoice_number, salt, attempt)
        metadata = {"invoice_number": invoice_number, "attempt": str(attempt),
                    "idempotency_key": key}
        return ProviderCall.objects.create(
            provider=Provider.STRIPE, kind=ProviderCallKind.PAYMENT_INTENT,
            invoice_number=invoice_number, method=method, attempt=attempt,
            amount_cents=amount_cents, idempotency_key=key, tries=1, created_at=clock.now(),
            params={"amount": amount_cents, "currency": "eur", "customer": customer,
                    "payment_method": payment_method,
                    "payment_method_types": [STRIPE_TYPES[method]],
                    "confirm": True, "off_session": True, "description": description[:300],
                    "metadata": metadata})


def _charge_record(call: ProviderCall, intent: dict[str, Any]) -> Payment:
    with transaction.atomic():
        call = ProviderCall.objects.select_for_update().get(pk=call.pk)
        if call.payment_id is not None:  # a concurrent try of the same call recorded it
            return Payment.objects.get(pk=call.payment_id)
        _call_succeeded(call, intent)
        payment = Payment.objects.filter(idempotency_key=call.idempotency_key).first()
        if payment is None:
            payment = Payment.objects.create(
                invoice_number=call.invoice_number, provider=Provider.STRIPE,
                method=call.method, status=PaymentStatus.PENDING,
                amount_cents=call.amount_cents, currency="EUR",
                idempotency_key=call.idempotency_key, attempt=call.attempt,
                created_at=clock.now(), provider_payment_id=str(intent.get("id", ""))[:120],
                provider_customer_id=str(call.params.get("customer", ""))[:120],
                provider_payment_method_id=str(call.params.get("payment_method", ""))[:120])
        call.payment = payment
        call.save()
        apply_intent_status(payment, intent, note=f"payment_intent {intent.get('id', '')}")
        return Payment.objects.get(pk=payment.pk)  # as the transition left it


def apply_intent_status(payment: Payment, intent: dict[str, Any], *, note: str) -> str:
    """A PaymentIntent's state applied to an invoice payment (its answer, or its event):
    each move once (payment_transition refuses a second), the outcome told once."""
    status = intent.get("status")
    if status == "succeeded":
        return payment_succeeded(payment, note=note)
    if status == "processing":
        if payment_can(payment, PaymentStatus.PROCESSING):
            payment_transition(payment=payment, to=PaymentStatus.PROCESSING, note=note)
            return "payment processing"
        return f"payment stays {payment.status}"
    if status in ("requires_payment_method", "canceled") and (
            intent.get("last_payment_error") or status == "canceled"):
        return payment_failed(payment, message=failure_text(intent), note=note)
    return f"payment stays {payment.status}"


def failure_text(obj: dict[str, Any]) -> str:
    error = obj.get("last_payment_error") or {}
    detail = error.get("message") or error.get("decline_code") or error.get("code") or ""
    return (_("Paiement refusé : %(detail)s") % {"detail": detail} if detail
            else _("Paiement refusé par la banque."))


def payment_succeeded(payment: Payment, *, note: str) -> str:
    if not payment_can(payment, PaymentStatus.SUCCEEDED):
        return f"payment stays {payment.status}"
    payment = payment_transition(payment=payment, to=PaymentStatus.SUCCEEDED, note=note)
    invoice_payment_outcome(payment=payment, outcome=Outcome.SUCCEEDED, note=note)
    return "payment succeeded, invoice told"


def payment_failed(payment: Payment, *, message: str, note: str) -> str:
    if not payment_can(payment, PaymentStatus.FAILED):
        return f"payment stays {payment.status}"
    payment = payment_transition(payment=payment, to=PaymentStatus.FAILED, note=note,
                                 failure_message=message)
    invoice_payment_outcome(payment=payment, outcome=Outcome.FAILED, note=message)
    return "payment failed, invoice told"


def payment_returned(payment: Payment, *, message: str, note: str) -> str:
    if not payment_can(payment, PaymentStatus.RETURNED):
        return f"payment stays {payment.status}"
    payment = payment_transition(payment=payment, to=PaymentStatus.RETURNED, note=note,
                                 failure_message=message)
    invoice_payment_outcome(payment=payment, outcome=Outcome.RETURNED, note=message)
    return "payment returned, invoice told"


# --- The client pays through the retry link (Stripe Checkout) ----------------------------------


def invoice_checkout_start(*, invoice_number: str, salt: str, amount_cents: int, email: str,
                           label: str, success_url: str, cancel_url: str) -> Payment:
    """A hosted Checkout page for what is left to pay on the invoice (card). A second click
    returns the same open session; the next try after a failure is a new attempt."""
    if amount_cents <= 0:
        raise DomainError("nothing_due", _("Rien à payer sur cette facture."), status=409)
    stripe_client.ensure_no_transaction()
    prepared = _checkout_prepare(invoice_number=invoice_number, salt=salt,
                                 amount_cents=amount_cents, email=email, label=label,
                                 success_url=success_url, cancel_url=cancel_url)
    if isinstance(prepared, Payment):
        return prepared
    try:
        session = stripe_client.checkout_session_create(
            _as_sent(prepared.params), idempotency_key=prepared.idempotency_key)
    except BaseException as exc:
        _call_failed(prepared, exc)
        raise
    with transaction.atomic():
        call = ProviderCall.objects.select_for_update().get(pk=prepared.pk)
        if call.payment_id is not None:
            return Payment.objects.get(pk=call.payment_id)
        _call_succeeded(call, session)
        payment = Payment.objects.create(
            invoice_number=invoice_number, provider=Provider.STRIPE, method="carte",
            status=PaymentStatus.PENDING, amount_cents=call.amount_cents, currency="EUR",
            idempotency_key=call.idempotency_key, attempt=call.attempt,
            created_at=clock.now(), provider_session_id=str(session["id"])[:120],
            checkout_url=str(session.get("url") or "")[:500])
        call.payment = payment
        call.save()
        return payment


def _checkout_prepare(*, invoice_number: str, salt: str, amount_cents: int, email: str,
                      label: str, success_url: str, cancel_url: str) -> Payment | ProviderCall:
    with transaction.atomic():
        calls = list(ProviderCall.objects.select_for_update()
                     .filter(invoice_number=invoice_number,
                             kind=ProviderCallKind.CHECKOUT_SESSION)
                     .order_by("-attempt", "-pk"))
        latest = calls[0] if calls else None
        young = clock.now() - CHECKOUT_REUSE_WINDOW
        if latest is not None and latest.amount_cents == amount_cents \
                and latest.created_at >= young:
            if latest.status in UNKNOWN_OUTCOME:
                latest.status = ProviderCallStatus.PENDING
                latest.tries += 1
                latest.save(update_fields=["status", "tries", "updated_at"])
                return latest
            if latest.payment_id is not None:
                payment = Payment.objects.get(pk=latest.payment_id)
                if payment.status == PaymentStatus.PENDING and payment.checkout_url:
                    return payment
        attempt = (latest.attempt + 1) if latest is not None else 1
        key = f"perm-invpay-{invoice_number}-{salt}-a{attempt}"
        metadata = {"invoice_number": invoice_number, "attempt": str(attempt),
                    "idempotency_key": key}
        return ProviderCall.objects.create(
            provider=Provider.STRIPE, kind=ProviderCallKind.CHECKOUT_SESSION,
            invoice_number=invoice_number, method="carte", attempt=attempt,
            amount_cents=amount_cents, idempotency_key=key, tries=1, created_at=clock.now(),
            params={"mode": "payment", "payment_method_types": ["card"],
                    "line_items": [{"quantity": 1, "price_data": {
                        "currency": "eur", "unit_amount": amount_cents,
                        "product_data": {"name": label[:250]}}}],
                    "currency": "eur", "customer_email": email or None,
                    "client_reference_id": invoice_number, "metadata": metadata,
                    "payment_intent_data": {"metadata": metadata, "description": label[:300]},
                    "locale": "fr", "success_url": success_url, "cancel_url": cancel_url})


# --- A bank transfer matched by billing staff ---------------------------------------------------


@transaction.atomic
def invoice_transfer_record(*, actor: User, invoice_number: str, amount_cents: int,
                            received_on: date, bank_label: str) -> Payment:
    """A transfer found on the bank statement, for an invoice: a succeeded payment, told to
    the apps above (in this transaction). The caller checked the amount against the balance."""
    if amount_cents <= 0:
        raise DomainError("invalid", _("Le montant doit être positif."), status=422)
    attempt = Payment.objects.filter(invoice_number=invoice_number,
                                     provider=Provider.TRANSFER).count() + 1
    now = clock.now()
    payment = Payment.objects.create(
        invoice_number=invoice_number, provider=Provider.TRANSFER, method="virement",
        status=PaymentStatus.PENDING, amount_cents=amount_cents, currency="EUR",
        # Never sent to a provider: unique is all it needs to be.
        idempotency_key=f"perm-invtr-{invoice_number}-{secrets.token_hex(8)}"[:64],
        attempt=attempt, created_at=now, matched_by=actor, bank_label=bank_label[:200])
    note = _("Virement du %(date)s : %(label)s") % {"date": received_on.strftime("%d/%m/%Y"),
                                                   "label": bank_label[:150]}
    payment = payment_transition(payment=payment, to=PaymentStatus.SUCCEEDED, actor=actor,
                                 note=note, now=now)
    invoice_payment_outcome(payment=payment, outcome=Outcome.SUCCEEDED, note=note)
    return payment


def invoice_payments(invoice_number: str) -> list[Payment]:
    return list(Payment.objects.filter(invoice_number=invoice_number, order__isnull=True)
                .order_by("-created_at", "-pk"))
