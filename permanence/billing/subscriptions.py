"""A subscription's life (issue 12): plan changes and options with a prorated preview,
suspension, cancellation with notice, and the daily job (due cancellations, the end of
suspensions, tacit renewal and its reminder). Status moves go through
services.subscription_transition; the account's status follows (accounts service).

Rules (stated here, shown to the client):
- a change takes effect on the day asked; the rest of the current period, to the day, is
  billed at the new price and credited at the old one (proration.change_difference_cents),
  on the next invoice; the new monthly price applies from the next period;
- a suspension is for monthly packages only (forfait, monthly billing) and lasts at most
  3 months; the daily job resumes it on its end date;
- a cancellation takes effect on max(commitment end, day asked + notice days); it can be
  withdrawn until then; on that day the daily job ends the subscription (résiliée);
- a commitment renews tacitly for the same length on its end date unless a cancellation
  is scheduled; the client is e-mailed once, 30 days before.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from dateutil.relativedelta import relativedelta
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from permanence.accounts.models import AccountStatus, ClientAccount, User
from permanence.accounts.services import account_status_set_by_billing
from permanence.audit.actions import Action
from permanence.audit.services import audit_record
from permanence.catalog.models import PLAN_KINDS, Offer, OfferKind
from permanence.core import clock
from permanence.core.errors import DomainError
from permanence.core.mail import queue_email

from .models import BillingPeriod, Subscription, SubscriptionStatus
from .models_changes import ChangeKind, SubscriptionChange
from .proration import Period, change_difference_cents, period_of
from .services import option_entry, plan_terms, subscription_transition

MAX_SUSPENSION_MONTHS = 3
RENEWAL_REMINDER_DAYS = 30
# Subscriptions still giving service (a scheduled cancellation serves until its date).
SERVING = (SubscriptionStatus.ACTIVE, SubscriptionStatus.CANCEL_SCHEDULED)
ON_HOLD = (SubscriptionStatus.SUSPENDED, SubscriptionStatus.PAYMENT_DEFAULT)


@dataclass(frozen=True)
class ChangePreview:
    kind: str
    at: date
    period: Period
    from_offer_id: int | None
    to_offer_id: int | None
    from_monthly_cents: int  # the subscription's total monthly price (plan + options)
    to_monthly_cents: int
    prorated_cents: int  # billed on the next invoice (a credit when negative)


def today() -> date:
    return timezone.localdate(clock.now())


def months_of(subscription: Subscription) -> int:
    return 12 if subscription.billing_period == BillingPeriod.ANNUAL else 1


def current_period(subscription: Subscription) -> Period:
    start = subscription.current_period_start or timezone.localdate(
        subscription.started_at)
    if subscription.next_invoice_on and subscription.next_invoice_on > start:
        return Period(start, subscription.next_invoice_on)
    return period_of(start, months=months_of(subscription))


def options_cents(options: list[dict[str, Any]]) -> int:
    return sum(int(o.get("monthly_price_cents", 0)) for o in options)


def total_monthly_cents(subscription: Subscription) -> int:
    return subscription.monthly_price_cents + options_cents(subscription.options)


def subscription_lock(subscription: Subscription | int) -> Subscription:
    pk = subscription if isinstance(subscription, int) else subscription.pk
    return Subscription.objects.select_for_update().select_related("offer").get(pk=pk)


def _require_active(subscription: Subscription) -> None:
    if subscription.status != SubscriptionStatus.ACTIVE:
        raise DomainError("subscription_not_active", _(
            "Cet abonnement n'est pas actif (%(status)s) : modification impossible.")
            % {"status": subscription.get_status_display()}, status=409)


def _preview(subscription: Subscription, *, kind: str, at: date, to_offer: Offer | None,
             new_total: int) -> ChangePreview:
    period = current_period(subscription)
    if not period.start <= at < period.end:
        raise DomainError("change_outside_period", _(
            "La date du changement doit être dans la période en cours (du %(start)s au "
            "%(end)s).") % {"start": date_format(period.start),
                            "end": date_format(period.last_day)}, status=422)
    old_total = total_monthly_cents(subscription)
    return ChangePreview(
        kind=kind, at=at, period=period, from_offer_id=subscription.offer_id,
        to_offer_id=to_offer.pk if to_offer else None, from_monthly_cents=old_total,
        to_monthly_cents=new_total,
        prorated_cents=change_difference_cents(old_total, new_total, period, at))


# --- Plan changes -------------------------------------------------------------------------------


def plans_available(subscription: Subscription) -> list[Offer]:
    """The published plans the subscription may move to (its own excepted)."""
    return list(Offer.objects.filter(kind__in=PLAN_KINDS, is_published=True)
                .exclude(pk=subscription.offer_id).order_by("position", "pk"))


def change_preview(*, subscription: Subscription, new_offer: Offer, at: date) -> ChangePreview:
    """What moving to `new_offer` on `at` costs: the difference for the days left in the
    current period, and the new monthly price (plan + options kept)."""
    _require_active(subscription)
    if new_offer.kind not in PLAN_KINDS or not new_offer.is_published:
        raise DomainError("not_a_plan", _("Cette offre n'est pas une formule disponible."),
                          status=422)
    if new_offer.pk == subscription.offer_id:
        raise DomainError("same_plan", _("C'est déjà votre formule."), status=422)
    new_total = new_offer.monthly_price_cents * subscription.quantity + options_cents(
        subscription.options)
    return _preview(subscription, kind=ChangeKind.PLAN, at=at, to_offer=new_offer,
                    new_total=new_total)


def _record(subscription: Subscription, preview: ChangePreview, *, actor: User | None,
            actor_label: str) -> SubscriptionChange:
    change = SubscriptionChange.objects.create(
        subscription=subscription, kind=preview.kind, from_offer_id=preview.from_offer_id,
        to_offer_id=preview.to_offer_id, from_monthly_cents=preview.from_monthly_cents,
        to_monthly_cents=preview.to_monthly_cents, at=preview.at,
        period_start=preview.period.start, period_end=preview.period.end,
        prorated_cents=preview.prorated_cents, actor=actor, created_at=clock.now())
    audit_record(actor=actor, action=Action.UPDATE, target=subscription,
                 account=subscription.account,
                 changes={"change": preview.kind, "offer": [preview.from_offer_id,
                                                            preview.to_offer_id],
                          "monthly_cents": [preview.from_monthly_cents,
                                            preview.to_monthly_cents],
                          "prorated_cents": preview.prorated_cents},
                 actor_label=actor_label)
    return change


@transaction.atomic
def change_apply(*, subscription: Subscription | int, new_offer: Offer, at: date,
                 actor: User | None, actor_label: str = "") -> SubscriptionChange:
    """Upgrade or downgrade on `at`: the plan's terms become the new offer's, the prorated
    difference is recorded (SubscriptionChange) for the next invoice. A commitment of the new
    plan starts on `at` when it ends later than the current one."""
    locked = subscription_lock(subscription)
    preview = change_preview(subscription=locked, new_offer=new_offer, at=at)
    change = _record(locked, preview, actor=actor, actor_label=actor_label)
    for name, value in plan_terms(new_offer, locked.quantity).items():
        setattr(locked, name, value)
    locked.offer = new_offer
    locked.label = new_offer.name
    locked.monthly_price_cents = new_offer.monthly_price_cents * locked.quantity
    if new_offer.commitment_months:
        ends = at + relativedelta(months=new_offer.commitment_months)
        if locked.commitment_ends_on is None or ends > locked.commitment_ends_on:
            locked.commitment_ends_on = ends
    locked.save()
    return change


# --- Options ------------------------------------------------------------------------------------


def options_available(subscription: Subscription) -> list[Offer]:
    """The options the plan offers that the subscription does not have yet."""
    taken = {int(o["offer"]) for o in subscription.options}
    return [o for o in subscription.offer.options.filter(kind=OfferKind.OPTION,
                                                         is_published=True)
            if o.pk not in taken]


def option_preview(*, subscription: Subscription, option: Offer, add: bool,
                   at: date) -> ChangePreview:
    _require_active(subscription)
    taken = {int(o["offer"]) for o in subscription.options}
    if add:
        if option.kind != OfferKind.OPTION or not option.is_published or not \
                subscription.offer.options.filter(pk=option.pk).exists():
            raise DomainError("option_unavailable",
                              _("Cette option n'est pas proposée avec votre formule."),
                              status=422)
        if option.pk in taken:
            raise DomainError("option_taken", _("Vous avez déjà cette option."), status=422)
        new_total = total_monthly_cents(subscription) + option.monthly_price_cents
    else:
        if option.pk not in taken:
            raise DomainError("option_absent", _("Vous n'avez pas cette option."), status=422)
        new_total = total_monthly_cents(subscription) - sum(
            int(o["monthly_price_cents"]) for o in subscription.options
            if int(o["offer"]) == option.pk)
    return _preview(subscription, kind=ChangeKind.OPTION_ADD if add else ChangeKind.OPTION_REMOVE,
                    at=at, to_offer=option, new_total=new_total)


@transaction.atomic
def option_apply(*, subscription: Subscription | int, option: Offer, add: bool, at: date,
                 actor: User | None, actor_label: str = "") -> SubscriptionChange:
    locked = subscription_lock(subscription)
    preview = option_preview(subscription=locked, option=option, add=add, at=at)
    change = _record(locked, preview, actor=actor, actor_label=actor_label)
    if add:
        locked.options = [*locked.options, option_entry(option, option.monthly_price_cents)]
    else:
        locked.options = [o for o in locked.options if int(o["offer"]) != option.pk]
    locked.save(update_fields=["options"])
    return change


# --- The account follows ------------------------------------------------------------------------


def account_follow(account: ClientAccount | int, *, actor: User | None, reason: str) -> None:
    """The account's status from its subscriptions: one serving → actif; else one suspended or
    in payment default → suspendu; else (all ended) → résilié. No subscription: unchanged."""
    pk = account if isinstance(account, int) else account.pk
    statuses = set(Subscription.objects.filter(account_id=pk).values_list("status", flat=True))
    if not statuses:
        return
    if statuses & set(SERVING):
        status = AccountStatus.ACTIVE
    elif statuses & set(ON_HOLD):
        status = AccountStatus.SUSPENDED
    else:
        status = AccountStatus.TERMINATED
    account_status_set_by_billing(account=pk, status=status, actor=actor, reason=reason,
                                  actor_label="" if actor else "system")


def subscription_move(subscription: Subscription, to: str, *, actor: User | None, note: str,
          actor_label: str = "") -> Subscription:
    moved = subscription_transition(subscription=subscription, to=to, actor=actor, note=note,
                                    actor_label=actor_label or ("" if actor else "system"))
    account_follow(moved.account_id, actor=actor, reason=f"subscription:{moved.pk}:{to}")
    return moved


# --- Suspension ---------------------------------------------------------------------------------


@transaction.atomic
def subscription_suspend(*, subscription: Subscription | int, until: date, on: date,
                         actor: User | None, note: str = "") -> Subscription:
    """Suspend a monthly package from `on` until `until` (at most 3 months)."""
    locked = subscription_lock(subscription)
    if locked.plan_kind != OfferKind.PACKAGE or locked.billing_period != BillingPeriod.MONTHLY:
        raise DomainError("suspension_not_allowed", _(
            "Seul un forfait mensuel peut être suspendu."), status=422)
    if not on < until <= on + relativedelta(months=MAX_SUSPENSION_MONTHS):
        raise DomainError("suspension_too_long", _(
            "Une suspension dure au plus %(months)s mois.") % {"months": MAX_SUSPENSION_MONTHS},
            status=422)
    locked = subscription_move(locked, SubscriptionStatus.SUSPENDED, actor=actor,
                   note=note or _("Suspendu jusqu'au %(date)s") % {"date": date_format(until)})
    locked.suspended_until = until
    locked.save(update_fields=["suspended_until"])
    return locked


@transaction.atomic
def subscription_resume(*, subscription: Subscription | int, actor: User | None,
                        note: str = "") -> Subscription:
    locked = subscription_lock(subscription)
    if locked.status != SubscriptionStatus.SUSPENDED:
        raise DomainError("not_suspended", _("Cet abonnement n'est pas suspendu."), status=409)
    locked = subscription_move(locked, SubscriptionStatus.ACTIVE, actor=actor, note=note)
    locked.suspended_until = None
    locked.save(update_fields=["suspended_until"])
    return locked


# --- Cancellation -------------------------------------------------------------------------------


def cancel_preview(*, subscription: Subscription, on: date) -> date:
    """The effective end date of a cancellation asked on `on`: the later of the commitment's
    end and `on` + the notice days."""
    if subscription.status not in (SubscriptionStatus.ACTIVE, SubscriptionStatus.SUSPENDED):
        raise DomainError("cancel_not_allowed", _(
            "Cet abonnement ne peut pas être résilié (%(status)s).")
            % {"status": subscription.get_status_display()}, status=409)
    ends = on + relativedelta(days=subscription.notice_days)
    if subscription.commitment_ends_on and subscription.commitment_ends_on > ends:
        ends = subscription.commitment_ends_on
    return ends


def account_mail(account: ClientAccount, *, subject: str, body: str) -> None:
    if account.billing_email:
        queue_email(to=[account.billing_email], subject=subject, body=body)


@transaction.atomic
def cancel_apply(*, subscription: Subscription | int, on: date, actor: User | None,
                 actor_label: str = "") -> Subscription:
    """« Résiliation programmée » with `ends_on` (cancel_preview's date); a confirmation is
    e-mailed to the account's billing address after the commit."""
    locked = subscription_lock(subscription)
    ends = cancel_preview(subscription=locked, on=on)
    locked = subscription_move(locked, SubscriptionStatus.CANCEL_SCHEDULED, actor=actor,
                   note=_("Fin le %(date)s") % {"date": date_format(ends)},
                   actor_label=actor_label)
    locked.ends_on = ends
    locked.save(update_fields=["ends_on"])
    account_mail(locked.account, subject=_("Résiliation de votre abonnement enregistrée"),
                  body=_("Votre demande de résiliation de « %(label)s » est enregistrée. Le "
                         "service prendra fin le %(date)s.")
                  % {"label": locked.label, "date": date_format(ends)})
    return locked


@transaction.atomic
def cancel_withdraw(*, subscription: Subscription | int, on: date, actor: User | None,
                    actor_label: str = "") -> Subscription:
    """Withdraw a scheduled cancellation before its date: active again, no end date."""
    locked = subscription_lock(subscription)
    if locked.status != SubscriptionStatus.CANCEL_SCHEDULED:
        raise DomainError("no_cancellation", _("Aucune résiliation n'est programmée."),
                          status=409)
    if locked.ends_on and locked.ends_on <= on:
        raise DomainError("cancellation_done", _("La résiliation a déjà pris effet."),
                          status=409)
    locked = subscription_move(locked, SubscriptionStatus.ACTIVE, actor=actor,
                   note=_("Résiliation annulée"), actor_label=actor_label)
    locked.ends_on = None
    locked.save(update_fields=["ends_on"])
    return locked


# --- Reads for the pages ------------------------------------------------------------------------


def current_subscription(account: ClientAccount) -> Subscription | None:
    """The account's plan subscription that is not over (the most recent)."""
    return (Subscription.objects.filter(account=account)
            .exclude(status=SubscriptionStatus.CANCELLED).select_related("offer")
            .order_by("-started_at", "-pk").first())
