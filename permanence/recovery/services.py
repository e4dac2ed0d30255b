"""Payment incidents and dunning (issue 12).

- `on_invoice_payment` is payments' hook (registered in startup.py), run inside the
  transaction that moved the payment: a success is applied to the invoice (billing's
  settlement service) and, once the invoice is paid, closes its incident — resuming the
  subscription if it was suspended; a failure or a return (the invoice reopens) opens the
  incident, or adds to the one open, and e-mails the client the retry link.
- `dunning_run` (daily) marks past-due invoices « en retard », sends the reminders J+3, J+10,
  J+20 and suspends after the grace period; `charges_run` (hourly, charges.py) charges the
  invoices due and retries on the schedule.
- Every step that must happen once is an IncidentEvent with a `step` unique per incident,
  written in the transaction that queues its e-mail (sent after the commit): a job run twice
  finds the step done and sends nothing twice.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from permanence.accounts.models import User
from permanence.audit.actions import Action
from permanence.audit.services import audit_record
from permanence.billing import settlement
from permanence.billing.models_invoices import Invoice, InvoiceStatus
from permanence.core import clock
from permanence.core.errors import DomainError
from permanence.core.transitions import Machine, transition
from permanence.payments.charges import invoice_transfer_record
from permanence.payments.hooks import Outcome
from permanence.payments.models import Payment

from . import emails, rules
from .models import (
    INCIDENT_TRANSITIONS,
    EventKind,
    IncidentEvent,
    IncidentState,
    NextAction,
    PaymentIncident,
)

INCIDENT_MACHINE: Machine[PaymentIncident] = Machine(
    model=PaymentIncident, transitions=INCIDENT_TRANSITIONS, history_model=None,
    history_fk="incident", status_choices=IncidentState, status_field="state",
    ref_field="pk")
LIVE = (IncidentState.OPEN, IncidentState.SUSPENDED)


def today() -> date:
    return timezone.localdate(clock.now())


def opened_on(incident: PaymentIncident) -> date:
    return timezone.localdate(incident.opened_at)


def incident_transition(*, incident: PaymentIncident | int, to: str,
                        actor: User | None = None) -> PaymentIncident:
    """The incident's state machine (the timeline says why: the caller adds the event)."""

    def stamp(obj: PaymentIncident, previous: str, to: str, actor: User | None,
              at: object) -> None:
        if to == IncidentState.RESOLVED:
            obj.closed_at = clock.now()
            obj.next_action = NextAction.NONE
            obj.next_action_on = None

    return transition(INCIDENT_MACHINE, instance=incident, to=to, actor=actor,
                      stamp=stamp).instance


def event_add(incident: PaymentIncident, kind: str, *, step: str = "", note: str = "",
              amount_cents: int | None = None, actor: User | None = None,
              payment: Payment | None = None) -> IncidentEvent | None:
    """Append to the timeline; None when `step` was already done (nothing written)."""
    if step and IncidentEvent.objects.filter(incident=incident, step=step).exists():
        return None
    return IncidentEvent.objects.create(
        incident=incident, kind=kind, step=step, at=clock.now(), note=note[:300],
        amount_cents=amount_cents, actor=actor if getattr(actor, "pk", None) else None,
        payment=payment)


def live_incident(invoice: Invoice | int) -> PaymentIncident | None:
    pk = invoice if isinstance(invoice, int) else invoice.pk
    return (PaymentIncident.objects.select_for_update()
            .filter(invoice_id=pk, state__in=LIVE).first())


def _steps_done(incident: PaymentIncident) -> set[str]:
    return set(incident.events.exclude(step="").values_list("step", flat=True))


def has_saved_method(invoice: Invoice) -> bool:
    sub = invoice.subscription
    return sub is not None and bool(sub.provider_customer_id and sub.provider_payment_method_id)


def schedule(incident: PaymentIncident, invoice: Invoice) -> None:
    """The next step and its date, from the calendar and the steps done (saved here)."""
    start = opened_on(incident)
    done = _steps_done(incident)
    planned: list[tuple[date, str]] = []
    if incident.state == IncidentState.OPEN:
        if has_saved_method(invoice):
            planned += [(start + timedelta(days=d), NextAction.RETRY)
                        for n, d in enumerate(rules.retry_days(), start=1)
                        if f"retry-{n}" not in done]
        planned += [(start + timedelta(days=d), NextAction.REMINDER)
                    for d in rules.reminder_days() if f"reminder-{d}" not in done]
        if invoice.subscription_id is not None and "suspension" not in done:
            planned.append((start + timedelta(days=rules.suspend_days()),
                            NextAction.SUSPENSION))
    if planned:
        on, action = min(planned)
    else:
        on, action = None, NextAction.WAIT_PAYMENT
    incident.next_action, incident.next_action_on = action, on
    incident.save(update_fields=["next_action", "next_action_on"])


# --- The hook: a payment's outcome ---------------------------------------------------------------


def _invoice_of(payment: Payment) -> Invoice | None:
    return (Invoice.objects.select_related("account", "subscription")
            .filter(number=payment.invoice_number).first())


def on_invoice_payment(*, payment: Payment, outcome: str, note: str) -> object:
    invoice = _invoice_of(payment)
    if invoice is None:
        return None
    if outcome == Outcome.SUCCEEDED:
        return _paid(invoice, payment, note)
    return _failed(invoice, payment, note, returned=outcome == Outcome.RETURNED)


def _failed(invoice: Invoice, payment: Payment, reason: str, *,
            returned: bool) -> PaymentIncident | None:
    on = today()
    if returned:  # the money is gone again: the invoice reopens
        invoice = settlement.invoice_payment_reverse(
            invoice=invoice, amount_cents=payment.amount_cents, on=on,
            note=_("Prélèvement retourné : %(reason)s") % {"reason": reason})
    else:
        invoice = settlement.invoice_lock(invoice)
    if invoice.status not in settlement.OPEN:
        return None  # paid by other means meanwhile, or credited: nothing to recover
    incident = live_incident(invoice)
    created = incident is None
    if incident is None:
        incident = PaymentIncident.objects.create(
            invoice=invoice, account_id=invoice.account_id, amount_cents=invoice.balance_cents,
            opened_at=clock.now(), reason=reason[:300])
    event = event_add(incident, EventKind.RETURN if returned else EventKind.FAILURE,
                      step=f"failure-{payment.pk}", note=reason,
                      amount_cents=payment.amount_cents, payment=payment)
    if created and event is not None:
        full = Invoice.objects.select_related("account").get(pk=invoice.pk)
        if emails.failure_notice(full, reason):
            event_add(incident, EventKind.NOTICE, step="notice",
                      note=_("E-mail avec le lien de paiement envoyé."))
        audit_record(actor=None, action=Action.CREATE, target=incident,
                     account=incident.account, actor_label="system",
                     changes={"invoice": invoice.number, "amount_cents": incident.amount_cents})
    schedule(incident, invoice)
    return incident


def _paid(invoice: Invoice, payment: Payment, note: str) -> Invoice:
    invoice = settlement.invoice_payment_apply(
        invoice=invoice, amount_cents=payment.amount_cents, on=today(),
        actor=payment.matched_by, note=note)
    incident = live_incident(invoice)
    if incident is None:
        return invoice
    event_add(incident, EventKind.PAYMENT, step=f"payment-{payment.pk}", note=note,
              amount_cents=payment.amount_cents, payment=payment, actor=payment.matched_by)
    if invoice.status != InvoiceStatus.PAID:
        incident.amount_cents = invoice.balance_cents
        incident.save(update_fields=["amount_cents"])
        return invoice
    _close(incident, invoice, actor=payment.matched_by,
           note=_("Facture réglée (%(how)s).") % {"how": payment.get_method_display()})
    return invoice


def _close(incident: PaymentIncident, invoice: Invoice, *, actor: User | None,
           note: str, paid: bool = True) -> None:
    resumed = False
    if incident.state == IncidentState.SUSPENDED and invoice.subscription_id is not None:
        settlement.subscription_payment_restored(
            subscription=invoice.subscription_id, actor=actor,
            note=_("Facture %(number)s réglée") % {"number": invoice.number})
        event_add(incident, EventKind.RESUMPTION, step="resumption",
                  note=_("Abonnement réactivé, le compte suit."), actor=actor)
        resumed = True
    incident_transition(incident=incident, to=IncidentState.RESOLVED, actor=actor)
    event_add(incident, EventKind.RESOLVED, step="resolved", note=note, actor=actor)
    if paid:
        emails.paid(Invoice.objects.select_related("account").get(pk=invoice.pk), resumed)


# --- The daily job ------------------------------------------------------------------------------


def dunning_run(on: date | None = None) -> dict[str, int]:
    """Past-due invoices → en retard; each live incident's due reminders and suspension.
    Each incident in its own short transaction."""
    on = on or today()
    done = {"overdue": settlement.invoices_mark_overdue(
        on=on, note=_("Échéance dépassée")), "reminders": 0, "suspended": 0}
    # An incident whose invoice is in a running payment schedule waits: the client pays by
    # instalments (billing.schedules), no reminder nor suspension meanwhile.
    ids = list(PaymentIncident.objects.filter(state__in=LIVE)
               .exclude(invoice__in=settlement.under_schedule())
               .order_by("pk").values_list("pk", flat=True))
    for pk in ids:
        reminded, suspended = _dunning_step(pk, on)
        done["reminders"] += reminded
        done["suspended"] += suspended
    return done


@transaction.atomic
def _dunning_step(pk: int, on: date) -> tuple[int, int]:
    incident = PaymentIncident.objects.select_for_update().get(pk=pk)
    if incident.state not in LIVE:
        return 0, 0
    invoice = Invoice.objects.select_related("account", "subscription").get(
        pk=incident.invoice_id)
    if invoice.status not in settlement.OPEN:
        # Settled without a payment told to us (cancelled by a credit note, paid before the
        # incident's hook ran): nothing left to recover, a suspension is lifted.
        _close(incident, invoice, actor=None, paid=False, note=_(
            "Facture %(status)s : plus rien à recouvrer.") % {
                "status": invoice.get_status_display()})
        return 0, 0
    if incident.state != IncidentState.OPEN:
        return 0, 0
    start = opened_on(incident)
    done = _steps_done(incident)
    suspend_on = start + timedelta(days=rules.suspend_days())
    due = [d for d in rules.reminder_days()
           if start + timedelta(days=d) <= on and f"reminder-{d}" not in done]
    reminded = 0
    for day in due[:-1]:  # a job that missed days sends only the latest reminder due
        event_add(incident, EventKind.REMINDER, step=f"reminder-{day}",
                  note=_("Rappel J+%(day)s non envoyé : le suivant était déjà dû.") % {
                      "day": day})
    if due and event_add(incident, EventKind.REMINDER, step=f"reminder-{due[-1]}",
                         note=_("Rappel J+%(day)s envoyé.") % {"day": due[-1]}):
        emails.reminder(invoice, due[-1], date_format(suspend_on, "d/m/Y"))
        reminded = 1
    suspended = 0
    if on >= suspend_on and invoice.subscription_id is not None \
            and "suspension" not in done:
        settlement.subscription_payment_default(
            subscription=invoice.subscription_id,
            note=_("Facture %(number)s impayée") % {"number": invoice.number})
        incident = incident_transition(incident=incident, to=IncidentState.SUSPENDED)
        event_add(incident, EventKind.SUSPENSION, step="suspension",
                  note=_("Abonnement en défaut de paiement, compte suspendu."))
        emails.suspension(invoice)
        suspended = 1
    schedule(incident, invoice)
    return reminded, suspended


# --- Staff actions ------------------------------------------------------------------------------


def _can_act(incident: PaymentIncident) -> None:
    if incident.state == IncidentState.RESOLVED:
        raise DomainError("incident_closed", _("Cet incident est clos."), status=409)


@transaction.atomic
def incident_note(*, actor: User, incident: PaymentIncident, text: str) -> IncidentEvent:
    text = text.strip()
    if not text:
        raise DomainError("invalid", _("La note est vide."), status=422,
                          fields={"text": [_("Ce champ est obligatoire.")]})
    locked = PaymentIncident.objects.select_for_update().get(pk=incident.pk)
    event = event_add(locked, EventKind.NOTE, note=text, actor=actor)
    assert event is not None  # noqa: S101 (no step: always written)  # nosec B101
    return event


@transaction.atomic
def incident_resolve(*, actor: User, incident: PaymentIncident, note: str) -> PaymentIncident:
    """Staff close an incident by hand (settled outside the platform, written off…). A
    suspended subscription is resumed."""
    locked = PaymentIncident.objects.select_for_update().get(pk=incident.pk)
    _can_act(locked)
    invoice = Invoice.objects.get(pk=locked.invoice_id)
    _close(locked, invoice, actor=actor, paid=False,
           note=note.strip()[:300] or _("Clos par la comptabilité."))
    audit_record(actor=actor, action=Action.UPDATE, target=locked, account=locked.account,
                 changes={"state": [IncidentState.OPEN, IncidentState.RESOLVED]})
    return PaymentIncident.objects.get(pk=locked.pk)


def transfer_match(*, actor: User, invoice: Invoice, amount_cents: int, received_on: date,
                   bank_label: str) -> Payment:
    """Billing staff found a transfer for `invoice` on the bank statement: a payment recorded
    (payments), applied to the invoice and its incident by the hook, in one transaction."""
    with transaction.atomic():
        locked = settlement.invoice_lock(invoice)
        if locked.status not in settlement.OPEN:
            raise DomainError("nothing_due", _("Cette facture n'attend pas de paiement."),
                              status=409)
        if not 0 < amount_cents <= locked.balance_cents:
            raise DomainError("invalid", _("Montant invalide."), status=422, fields={
                "amount": [_("Entre 0,01 € et le reste dû.")]})
        payment = invoice_transfer_record(actor=actor, invoice_number=locked.number,
                                          amount_cents=amount_cents, received_on=received_on,
                                          bank_label=bank_label)
        audit_record(actor=actor, action=Action.UPDATE, target=locked, account=locked.account,
                     changes={"transfer_cents": amount_cents, "bank_label": bank_label[:200]})
        return payment
