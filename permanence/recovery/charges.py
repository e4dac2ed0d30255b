"""Charging invoices with the saved payment method (issue 12): at the due date, then on the
dunning schedule's retry days, or at once when billing staff ask. And the client's own
payment through the invoice's retry link (a Stripe Checkout for what is left to pay).

Stripe is never called with a transaction open: the decision (and the retry's timeline
step) is committed first, then payments.charges makes the call (its own pending
ProviderCall, committed before, with one idempotency key per invoice and attempt: a job that
died during the call sends the same key again, never a second charge)."""

from __future__ import annotations

import logging
from datetime import date, timedelta

from django.db import transaction
from django.utils.translation import gettext as _

from permanence.accounts.models import User
from permanence.billing import settlement
from permanence.billing.models_invoices import Invoice
from permanence.core import clock
from permanence.core.errors import DomainError
from permanence.payments import charges as payment_charges
from permanence.payments.models import Payment, ProviderCall, ProviderCallKind, ProviderCallStatus

from . import rules
from .models import EventKind, IncidentState, PaymentIncident
from .services import event_add, has_saved_method, opened_on, schedule, today

logger = logging.getLogger(__name__)
CATCH_UP = timedelta(days=7)


def _salt(invoice: Invoice) -> str:
    return str(int(invoice.created_at.timestamp()))


def _method(invoice: Invoice) -> str:
    order = invoice.subscription.order if invoice.subscription else None
    return "sepa" if order is not None and order.payment_method == "sepa" else "carte"


def charge(invoice: Invoice) -> Payment:
    """Charge what is left on `invoice` with its subscription's saved method (no transaction
    may be open)."""
    sub = invoice.subscription
    if sub is None or not has_saved_method(invoice):
        raise DomainError("no_saved_method", _(
            "Aucun moyen de paiement enregistré pour cet abonnement."), status=409)
    return payment_charges.invoice_charge(
        invoice_number=invoice.number, salt=_salt(invoice), amount_cents=invoice.balance_cents,
        customer=sub.provider_customer_id, payment_method=sub.provider_payment_method_id,
        method=_method(invoice),
        description=_("Facture %(number)s") % {"number": invoice.number})


def _attempts(numbers: list[str]) -> dict[str, str]:
    """Per invoice number, the status of its latest off-session charge call."""
    out: dict[str, str] = {}
    for number, status in (ProviderCall.objects.filter(
            invoice_number__in=numbers, kind=ProviderCallKind.PAYMENT_INTENT)
            .order_by("attempt", "pk").values_list("invoice_number", "status")):
        out[number] = status
    return out


def charges_run(on: date | None = None) -> dict[str, int]:
    """Hourly: (1) invoices due with a saved method never charged — or whose last charge's
    outcome is unknown (the same key again); (2) the retries due on open incidents."""
    on = on or today()
    done = {"charged": 0, "retried": 0, "errors": 0}
    unknown_numbers = ProviderCall.objects.filter(
        kind=ProviderCallKind.PAYMENT_INTENT, created_at__gte=clock.now() - CATCH_UP,
        status__in=(ProviderCallStatus.PENDING, ProviderCallStatus.UNANSWERED),
    ).values_list("invoice_number", flat=True)
    # Charged on their due date — or within a week, when the job was down — and the calls
    # whose outcome is unknown: old unpaid invoices are the incidents' business, not this.
    due = settlement.invoices_to_charge(on)
    invoices = list((due.filter(due_on__gte=on - CATCH_UP)
                     | due.filter(number__in=list(unknown_numbers)))
                    .select_related("subscription__order")[:500])
    attempts = _attempts([i.number for i in invoices])
    live = set(PaymentIncident.objects.filter(
        invoice__in=invoices, state__in=(IncidentState.OPEN, IncidentState.SUSPENDED))
        .values_list("invoice_id", flat=True))
    for invoice in invoices:
        state = attempts.get(invoice.number)
        unknown = state in (ProviderCallStatus.PENDING, ProviderCallStatus.UNANSWERED)
        if (state is None and invoice.pk not in live) or unknown:
            done["charged" if _try(invoice) else "errors"] += 1
    for pk in list(PaymentIncident.objects.filter(state=IncidentState.OPEN)
                   .exclude(invoice__in=settlement.under_schedule())
                   .values_list("pk", flat=True)):
        retried = _retry_due(pk, on)
        if retried is not None:
            done["retried" if _try(retried) else "errors"] += 1
    return done


def _try(invoice: Invoice) -> bool:
    try:
        charge(invoice)
    except DomainError as exc:  # provider refused or unavailable: recorded on the call
        logger.warning("charging invoice %s failed: %s", invoice.number, exc.message)
        return False
    return True


@transaction.atomic
def _retry_due(pk: int, on: date) -> Invoice | None:
    """The incident's next retry, if due: its step written (committed before the call)."""
    incident = PaymentIncident.objects.select_for_update().get(pk=pk)
    invoice = Invoice.objects.select_related("subscription__order", "account").get(
        pk=incident.invoice_id)
    if incident.state != IncidentState.OPEN or not has_saved_method(invoice) \
            or invoice.status not in settlement.OPEN:
        return None
    start = opened_on(incident)
    due = [n for n, d in enumerate(rules.retry_days(), start=1)
           if start + timedelta(days=d) <= on]
    if not due or not event_add(incident, EventKind.RETRY, step=f"retry-{due[-1]}",
                                note=_("Nouvel essai n° %(n)s du moyen de paiement "
                                       "enregistré.") % {"n": due[-1]},
                                amount_cents=invoice.balance_cents):
        return None
    schedule(incident, invoice)
    return invoice


def retry_now(*, actor: User, incident: PaymentIncident) -> Payment:
    """Billing staff: charge the saved method again now."""
    with transaction.atomic():
        locked = PaymentIncident.objects.select_for_update().get(pk=incident.pk)
        invoice = Invoice.objects.select_related("subscription__order", "account").get(
            pk=locked.invoice_id)
        if locked.state == IncidentState.RESOLVED or invoice.status not in settlement.OPEN:
            raise DomainError("nothing_due", _("Cette facture n'attend pas de paiement."),
                              status=409)
        if not has_saved_method(invoice):
            raise DomainError("no_saved_method", _(
                "Aucun moyen de paiement enregistré pour cet abonnement."), status=409)
        n = locked.events.filter(kind=EventKind.RETRY).count() + 1
        event_add(locked, EventKind.RETRY, step=f"manual-retry-{n}", actor=actor,
                  note=_("Nouvel essai demandé par la comptabilité."),
                  amount_cents=invoice.balance_cents)
    return charge(invoice)


def pay_start(*, invoice: Invoice, success_url: str, cancel_url: str) -> Payment:
    """The client pays what is left through the retry link: a hosted Checkout page."""
    if invoice.status not in settlement.OPEN:
        raise DomainError("nothing_due", _("Cette facture n'attend pas de paiement."),
                          status=409)
    return payment_charges.invoice_checkout_start(
        invoice_number=invoice.number, salt=_salt(invoice), amount_cents=invoice.balance_cents,
        email=invoice.account.billing_email or (invoice.buyer or {}).get("email", ""),
        label=_("Facture %(number)s") % {"number": invoice.number},
        success_url=success_url, cancel_url=cancel_url)
