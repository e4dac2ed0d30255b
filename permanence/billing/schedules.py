"""Payment schedules (échéanciers): the balance of one or more open invoices of an account,
split into 2 to 12 monthly instalments agreed with the client by billing staff.

On each instalment's date (scheduler job `billing.schedules`, daily): with a card or SEPA
mandate on file, the instalment is charged through payments (reference `ECH<schedule>-<n>`,
one idempotency key per attempt, never inside a transaction); otherwise the client is
reminded by e-mail, once. A paid instalment (the provider's outcome through payments'
hook, or a transfer recorded by billing staff) is applied to the schedule's invoices, oldest
first (settlement.invoice_payment_apply); the last one settles the schedule. While a schedule
runs, its invoices are neither charged in full nor dunned (settlement.invoices_to_charge)."""

from __future__ import annotations

import logging
from datetime import date

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from permanence.accounts.models import User
from permanence.audit.actions import Action
from permanence.audit.services import audit_record
from permanence.core import clock
from permanence.core.errors import DomainError, Forbidden, invalid
from permanence.core.transitions import Machine, apply, transition
from permanence.payments import charges as payment_charges
from permanence.payments.hooks import Outcome
from permanence.payments.models import Payment

from . import settlement
from .models import Subscription
from .models_invoices import DocumentKind, Invoice
from .models_schedules import (
    SCHEDULE_TRANSITIONS,
    Instalment,
    InstalmentStatus,
    PaymentSchedule,
    ScheduleMethod,
    ScheduleStatus,
)
from .permissions import can_manage_billing

logger = logging.getLogger(__name__)
REFERENCE_PREFIX = "ECH"
MAX_INSTALMENTS = 12
MAX_FIRST_DELAY_DAYS = 62
INSTALMENT_TRANSITIONS: dict[str, set[str]] = {
    InstalmentStatus.PLANNED: {InstalmentStatus.REQUESTED, InstalmentStatus.PAID},
    InstalmentStatus.REQUESTED: {InstalmentStatus.PAID, InstalmentStatus.FAILED},
    InstalmentStatus.FAILED: {InstalmentStatus.REQUESTED, InstalmentStatus.PAID},
    InstalmentStatus.PAID: set(),
}
SCHEDULE_MACHINE: Machine[PaymentSchedule] = Machine(
    model=PaymentSchedule, transitions=SCHEDULE_TRANSITIONS, history_model=None,
    history_fk="schedule", status_choices=ScheduleStatus, ref_field="pk")
INSTALMENT_MACHINE: Machine[Instalment] = Machine(
    model=Instalment, transitions=INSTALMENT_TRANSITIONS, history_model=None,
    history_fk="instalment", status_choices=InstalmentStatus, ref_field="pk")


def split(total_cents: int, count: int) -> list[int]:
    """Equal instalments, the odd cents on the first: they add up to the total exactly."""
    base, rest = divmod(total_cents, count)
    return [base + rest] + [base] * (count - 1)


def reference(instalment: Instalment) -> str:
    return f"{REFERENCE_PREFIX}{instalment.schedule_id}-{instalment.position}"


def saved_method(account_id: int) -> Subscription | None:
    """The account's subscription holding a card / SEPA mandate (provider ids only)."""
    return (Subscription.objects.filter(account_id=account_id).exclude(provider_customer_id="")
            .exclude(provider_payment_method_id="").select_related("order")
            .order_by("-started_at", "-pk").first())


@transaction.atomic
def schedule_create(*, actor: User, invoices: list[Invoice], count: int, first_due: date,
                    method: str, note: str = "") -> PaymentSchedule:
    if not can_manage_billing(actor):
        raise Forbidden(_("Seule la comptabilité accorde un échéancier."))
    locked = list(Invoice.objects.select_for_update().filter(
        pk__in=[i.pk for i in invoices]).order_by("issued_on", "pk"))
    if not locked or len({i.account_id for i in locked}) != 1 or any(
            i.kind != DocumentKind.INVOICE or i.status not in settlement.OPEN
            or i.balance_cents <= 0 for i in locked):
        raise invalid(invoices=_("Des factures ouvertes d'un même client."))
    if PaymentSchedule.objects.filter(invoices__in=locked,
                                      status=ScheduleStatus.ACTIVE).exists():
        raise DomainError("already_scheduled", _(
            "Une de ces factures est déjà dans un échéancier en cours."), status=409)
    if not 2 <= count <= MAX_INSTALMENTS:
        raise invalid(count=_("De 2 à 12 échéances."))
    today = timezone.localdate()
    if not today <= first_due <= today + relativedelta(days=MAX_FIRST_DELAY_DAYS):
        raise invalid(first_due=_("La première échéance tombe dans les deux mois qui "
                                  "viennent."))
    account_id = locked[0].account_id
    if method == ScheduleMethod.CHARGE and saved_method(account_id) is None:
        raise invalid(method=_("Aucune carte ni mandat SEPA enregistré : choisissez le "
                               "virement."))
    if method not in ScheduleMethod.values:
        raise invalid(method=_("Choisissez un mode de paiement."))
    total = sum(i.balance_cents for i in locked)
    schedule = PaymentSchedule.objects.create(
        account_id=account_id, total_cents=total, method=method, note=note.strip()[:300],
        agreed_by=actor, created_at=clock.now())
    schedule.invoices.set(locked)
    Instalment.objects.bulk_create([
        Instalment(schedule=schedule, position=n, due_on=first_due + relativedelta(months=n - 1),
                   amount_cents=amount)
        for n, amount in enumerate(split(total, count), start=1)])
    audit_record(actor=actor, action=Action.CREATE, target=schedule, account=schedule.account,
                 changes={"invoices": [i.number for i in locked], "total_cents": total,
                          "instalments": count, "method": method})
    return schedule


def _settle(schedule: PaymentSchedule, amount_cents: int, *, actor: User | None,
            note: str) -> None:
    """Apply a paid instalment to the schedule's invoices, oldest first."""
    left = amount_cents
    for invoice in schedule.invoices.order_by("issued_on", "pk"):
        if left <= 0:
            break
        part = min(left, max(invoice.balance_cents, 0))
        if part:
            settlement.invoice_payment_apply(invoice=invoice, amount_cents=part,
                                             on=timezone.localdate(), actor=actor, note=note)
            left -= part


@transaction.atomic
def instalment_paid(*, instalment: Instalment | int, actor: User | None = None,
                    note: str = "") -> Instalment:
    """The instalment's money arrived: applied to the invoices; the last one settles the
    schedule. Paid twice (an event replayed) changes nothing."""
    moved = transition(INSTALMENT_MACHINE, instance=instalment, to=InstalmentStatus.PAID,
                       actor=actor, stamp=lambda obj, *_a: setattr(obj, "paid_at", clock.now()))
    inst = moved.instance
    if moved.previous == InstalmentStatus.PAID:
        return inst
    schedule = inst.schedule
    with override("fr"):
        text = note or _("Échéance %(n)s de l'échéancier n° %(s)s") % {
            "n": inst.position, "s": schedule.pk}
    _settle(schedule, inst.amount_cents, actor=actor, note=text)
    if not schedule.instalments.exclude(status=InstalmentStatus.PAID).exists():
        transition(SCHEDULE_MACHINE, instance=schedule, to=ScheduleStatus.DONE, actor=actor)
    audit_record(actor=actor, action=Action.UPDATE, target=schedule, account=schedule.account,
                 changes={"instalment_paid": inst.position, "amount_cents": inst.amount_cents})
    return inst


@transaction.atomic
def instalment_failed(*, instalment: Instalment | int, reason: str) -> Instalment:
    inst = transition(INSTALMENT_MACHINE, instance=instalment, to=InstalmentStatus.FAILED,
                      stamp=lambda obj, *_a: setattr(obj, "note", reason[:300])).instance
    _mail(inst, _("Échéance impayée — %(name)s"), _(
        "Bonjour,\n\nLe prélèvement de l'échéance %(n)s de votre échéancier (%(amount)s) n'a "
        "pas abouti : %(reason)s.\nNous vous recontacterons ; vous pouvez aussi régler par "
        "virement en indiquant la référence %(ref)s.\n"), reason=reason)
    return inst


def payment_hook(*, payment: Payment, outcome: str, note: str) -> None:
    """payments' hook (registered in billing.startup): outcomes of instalment charges."""
    ref = payment.invoice_number or ""
    if not ref.startswith(REFERENCE_PREFIX):
        return
    inst = _by_reference(ref)
    if inst is None:
        logger.warning("payment %s for unknown instalment %s", payment.pk, ref)
        return
    if outcome == Outcome.SUCCEEDED:
        instalment_paid(instalment=inst, note=note)
    elif outcome in (Outcome.FAILED, Outcome.RETURNED) \
            and inst.status == InstalmentStatus.REQUESTED:
        instalment_failed(instalment=inst, reason=payment.failure_message or note)


def _by_reference(ref: str) -> Instalment | None:
    schedule, _sep, position = ref.removeprefix(REFERENCE_PREFIX).partition("-")
    if not (schedule.isdigit() and position.isdigit()):
        return None
    return (Instalment.objects.select_related("schedule")
            .filter(schedule_id=int(schedule), position=int(position)).first())


def _mail(inst: Instalment, subject: str, body: str, **extra: str) -> None:
    account = inst.schedule.account
    if not account.billing_email:
        return
    with override("fr"):
        values = {"name": account.name, "n": str(inst.position), "ref": reference(inst),
                  "amount": f"{inst.amount_cents / 100:.2f} €".replace(".", ","),
                  "date": inst.due_on.strftime("%d/%m/%Y"), **extra}
        message = (subject % values, body % values)
    transaction.on_commit(lambda: send_mail(message[0], message[1],
                                            settings.DEFAULT_FROM_EMAIL,
                                            [account.billing_email]), robust=True)


def _request(inst_id: int) -> Instalment | None:
    """Transaction 1 of an instalment's day: claimed (demandée) once — a transfer payer is
    reminded in the same commit. A charge already asked is returned again: payments answers
    with the attempt in flight, or sends the same key when the outcome was never recorded."""
    with transaction.atomic():
        inst = Instalment.objects.select_for_update(of=("self",)).select_related(
            "schedule__account").get(pk=inst_id)
        charge = inst.schedule.method == ScheduleMethod.CHARGE
        if inst.schedule.status != ScheduleStatus.ACTIVE or inst.status == InstalmentStatus.PAID:
            return None
        if inst.status == InstalmentStatus.REQUESTED:
            return inst if charge else None
        inst.attempts += 1
        inst.reminded_at = clock.now()
        apply(INSTALMENT_MACHINE, inst, to=InstalmentStatus.REQUESTED)
        inst.save(update_fields=["attempts", "reminded_at", "status"])
        if not charge:
            _mail(inst, _("Échéance du %(date)s — %(name)s"), _(
                "Bonjour,\n\nL'échéance %(n)s de votre échéancier, %(amount)s, est due le "
                "%(date)s. Merci de la régler par virement en indiquant la référence %(ref)s."
                "\n"))
        return inst


def _charge(inst: Instalment) -> None:
    """Transaction-free: the provider call (payments journals it first)."""
    sub = saved_method(inst.schedule.account_id)
    if sub is None:
        instalment_failed(instalment=inst.pk, reason=_("aucun moyen de paiement enregistré"))
        return
    payment_charges.invoice_charge(
        invoice_number=reference(inst), salt=str(int(inst.schedule.created_at.timestamp())),
        amount_cents=inst.amount_cents, customer=sub.provider_customer_id,
        payment_method=sub.provider_payment_method_id,
        method="sepa" if sub.order and sub.order.payment_method == "sepa" else "carte",
        description=_("Échéance %(n)s de l'échéancier n° %(s)s") % {
            "n": inst.position, "s": inst.schedule_id})


def instalment_request(instalment: Instalment | int) -> bool:
    """Charge or remind one instalment now (the job, or staff's « Débiter maintenant »)."""
    pk = instalment if isinstance(instalment, int) else instalment.pk
    inst = _request(pk)
    if inst is None:
        return False
    if inst.schedule.method == ScheduleMethod.CHARGE:
        try:
            _charge(inst)
        except DomainError as exc:
            instalment_failed(instalment=inst.pk, reason=exc.message)
    return True


def schedules_run(on: date | None = None) -> dict[str, int]:
    """Daily: every planned instalment due by `on` is charged or reminded (once); a charge
    asked but never answered (the job died during the call) is sent again, same key."""
    on = on or timezone.localdate()
    done = 0
    due = Q(status=InstalmentStatus.PLANNED) | Q(status=InstalmentStatus.REQUESTED,
                                                 schedule__method=ScheduleMethod.CHARGE)
    for pk in list(Instalment.objects.filter(
            due, due_on__lte=on, schedule__status=ScheduleStatus.ACTIVE)
            .order_by("due_on", "pk").values_list("pk", flat=True)[:1000]):
        try:
            done += instalment_request(pk)
        except Exception:  # one instalment's failure must not stop the others
            logger.exception("billing.schedules: instalment %s failed", pk)
    return {"requested": done}


@transaction.atomic
def schedule_cancel(*, actor: User, schedule: PaymentSchedule | int,
                    note: str = "") -> PaymentSchedule:
    """The agreement ends (broken, or replaced): what is left is due again on the invoices."""
    if not can_manage_billing(actor):
        raise Forbidden(_("Seule la comptabilité gère les échéanciers."))
    moved = transition(SCHEDULE_MACHINE, instance=schedule, to=ScheduleStatus.CANCELLED,
                       actor=actor, note=note)
    audit_record(actor=actor, action=Action.UPDATE, target=moved.instance,
                 account=moved.instance.account, changes={"status": "annule", "note": note})
    return moved.instance
