"""Billing's side of getting paid (issue 12): a payment applied to an invoice, a payment
reversed (a SEPA debit returned weeks later reopens the invoice), invoices past their due
date marked « en retard », and the subscription put in payment default and back.

Billing stays the only writer of its tables: payments and recovery call these services. The
invoice's status moves through statuses.invoice_transition only; the amount paid is one of
the columns the immutability triggers let move (migration 0006)."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.db.models import QuerySet

from permanence.accounts.models import User

from .models import Subscription, SubscriptionStatus
from .models_invoices import DocumentKind, Invoice, InvoiceStatus
from .statuses import invoice_transition
from .subscriptions import subscription_lock, subscription_move

# Invoices that still expect money.
OPEN = (InvoiceStatus.ISSUED, InvoiceStatus.PARTLY_PAID, InvoiceStatus.OVERDUE)


def invoice_lock(invoice: Invoice | int) -> Invoice:
    pk = invoice if isinstance(invoice, int) else invoice.pk
    return Invoice.objects.select_for_update().get(pk=pk)


def _status_for(invoice: Invoice, paid_cents: int, on: date) -> str:
    if paid_cents >= invoice.total_ttc_cents:
        return InvoiceStatus.PAID
    if invoice.due_on < on:
        return InvoiceStatus.OVERDUE
    return InvoiceStatus.PARTLY_PAID if paid_cents > 0 else InvoiceStatus.ISSUED


def _move(invoice: Invoice, to: str, paid_cents: int, *, actor: User | None,
          note: str) -> Invoice:
    if to == invoice.status:  # the status stays (a second part payment): only the amount
        Invoice.objects.filter(pk=invoice.pk).update(paid_cents=paid_cents)
        invoice.paid_cents = paid_cents
        return invoice
    return invoice_transition(invoice=invoice, to=to, actor=actor, note=note,
                              paid_cents=paid_cents)


@transaction.atomic
def invoice_payment_apply(*, invoice: Invoice | int, amount_cents: int, on: date,
                          actor: User | None = None, note: str = "") -> Invoice:
    """`amount_cents` received for the invoice: fully paid → payée; partly → partiellement
    payée (en retard when partly paid past the due date stays en retard). A credited
    invoice takes no payment (the caller refunds it)."""
    locked = invoice_lock(invoice)
    if locked.kind != DocumentKind.INVOICE or locked.status == InvoiceStatus.CREDITED:
        return locked
    paid = locked.paid_cents + amount_cents
    to = InvoiceStatus.PAID if paid >= locked.total_ttc_cents else (
        InvoiceStatus.OVERDUE if locked.status == InvoiceStatus.OVERDUE
        else InvoiceStatus.PARTLY_PAID)
    return _move(locked, to, paid, actor=actor, note=note)


@transaction.atomic
def invoice_payment_reverse(*, invoice: Invoice | int, amount_cents: int, on: date,
                            actor: User | None = None, note: str = "") -> Invoice:
    """A payment taken back (a SEPA debit returned): the amount is due again and the invoice
    reopens — émise, partiellement payée, or en retard when past its due date."""
    locked = invoice_lock(invoice)
    if locked.kind != DocumentKind.INVOICE or locked.status == InvoiceStatus.CREDITED:
        return locked
    paid = max(0, locked.paid_cents - amount_cents)
    return _move(locked, _status_for(locked, paid, on), paid, actor=actor, note=note)


def invoices_past_due(on: date) -> QuerySet[Invoice]:
    return Invoice.objects.filter(kind=DocumentKind.INVOICE, due_on__lt=on, status__in=(
        InvoiceStatus.ISSUED, InvoiceStatus.PARTLY_PAID))


def invoices_mark_overdue(*, on: date, note: str = "") -> int:
    """The daily job: unpaid invoices past their due date → en retard (each in its own short
    transaction; running it twice changes nothing)."""
    done = 0
    for pk in list(invoices_past_due(on).values_list("pk", flat=True)):
        with transaction.atomic():
            locked = invoice_lock(pk)
            if locked.status in (InvoiceStatus.ISSUED, InvoiceStatus.PARTLY_PAID) \
                    and locked.due_on < on:
                invoice_transition(invoice=locked, to=InvoiceStatus.OVERDUE, note=note)
                done += 1
    return done


def invoices_to_charge(on: date) -> QuerySet[Invoice]:
    """Subscription invoices due by `on` with money expected and a saved payment method
    (provider ids on the subscription): the charge at the due date. Not those in a running
    payment schedule: their instalments are charged instead (billing.schedules)."""
    return (Invoice.objects.filter(kind=DocumentKind.INVOICE, status__in=OPEN, due_on__lte=on,
                                   subscription__isnull=False)
            .exclude(subscription__provider_customer_id="")
            .exclude(subscription__provider_payment_method_id="")
            .exclude(pk__in=under_schedule())
            .select_related("subscription", "account").order_by("due_on", "pk"))


def under_schedule() -> QuerySet[Invoice, int]:
    """Ids of the invoices in a running payment schedule: neither charged in full nor
    dunned (a subquery)."""
    return Invoice.objects.filter(schedules__status="en_cours").values_list("pk", flat=True)


@transaction.atomic
def subscription_payment_default(*, subscription: Subscription | int, note: str,
                                 actor: User | None = None) -> Subscription:
    """Unpaid past the grace period: « en défaut de paiement »; the account follows
    (suspendu). Only a serving subscription moves; otherwise it is returned as it is."""
    locked = subscription_lock(subscription)
    if locked.status not in (SubscriptionStatus.ACTIVE, SubscriptionStatus.CANCEL_SCHEDULED):
        return locked
    return subscription_move(locked, SubscriptionStatus.PAYMENT_DEFAULT, actor=actor,
                             note=note)


@transaction.atomic
def subscription_payment_restored(*, subscription: Subscription | int, note: str,
                                  actor: User | None = None) -> Subscription:
    """Paid again: a subscription in payment default is active again; the account follows."""
    locked = subscription_lock(subscription)
    if locked.status != SubscriptionStatus.PAYMENT_DEFAULT:
        return locked
    return subscription_move(locked, SubscriptionStatus.ACTIVE, actor=actor, note=note)
