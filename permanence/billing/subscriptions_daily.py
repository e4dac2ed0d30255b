"""The subscriptions' daily job (issue 12; rules in billing/subscriptions.py): ends the
subscriptions whose cancellation date has come, resumes suspensions that are over, renews
reached commitments tacitly and sends each renewal reminder once, 30 days before."""

from __future__ import annotations

from datetime import date

from dateutil.relativedelta import relativedelta
from django.db import transaction
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from permanence.audit.actions import Action
from permanence.audit.services import audit_record

from .models import Subscription, SubscriptionStatus
from .subscriptions import (
    RENEWAL_REMINDER_DAYS,
    account_mail,
    subscription_lock,
    subscription_move,
    subscription_resume,
)


def subscriptions_daily(*, on: date) -> dict[str, int]:
    """Ends the subscriptions whose cancellation date has come, resumes the suspensions that
    are over, renews reached commitments and sends the renewal reminders (once per date).
    Each subscription in its own transaction: one failure does not stop the others."""
    done = {"ended": 0, "resumed": 0, "renewed": 0, "reminded": 0}
    for pk in Subscription.objects.filter(status=SubscriptionStatus.CANCEL_SCHEDULED,
                                          ends_on__lte=on).values_list("pk", flat=True):
        with transaction.atomic():
            locked = subscription_lock(pk)
            if locked.status == SubscriptionStatus.CANCEL_SCHEDULED:
                subscription_move(locked, SubscriptionStatus.CANCELLED, actor=None,
                      note=_("Date de résiliation atteinte"))
                done["ended"] += 1
    for pk in Subscription.objects.filter(status=SubscriptionStatus.SUSPENDED,
                                          suspended_until__lte=on).values_list("pk", flat=True):
        subscription_resume(subscription=pk, actor=None, note=_("Fin de la suspension"))
        done["resumed"] += 1
    for pk in Subscription.objects.filter(
            status__in=(SubscriptionStatus.ACTIVE, SubscriptionStatus.SUSPENDED),
            commitment_ends_on__lte=on).values_list("pk", flat=True):
        done["renewed"] += _renew(pk, on=on)
    for pk in Subscription.objects.filter(
            status=SubscriptionStatus.ACTIVE, commitment_ends_on__gt=on,
            commitment_ends_on__lte=on + relativedelta(days=RENEWAL_REMINDER_DAYS),
    ).values_list("pk", flat=True):
        done["reminded"] += _remind(pk)
    return done


@transaction.atomic
def _renew(pk: int, *, on: date) -> int:
    locked = subscription_lock(pk)
    months = locked.offer.commitment_months
    if not months or locked.commitment_ends_on is None or locked.commitment_ends_on > on:
        return 0
    previous = locked.commitment_ends_on
    while locked.commitment_ends_on <= on:
        locked.commitment_ends_on += relativedelta(months=months)
    locked.save(update_fields=["commitment_ends_on"])
    audit_record(actor=None, action=Action.UPDATE, target=locked, account=locked.account,
                 changes={"commitment_ends_on": [previous, locked.commitment_ends_on]},
                 actor_label="system")
    return 1


@transaction.atomic
def _remind(pk: int) -> int:
    locked = subscription_lock(pk)
    ends = locked.commitment_ends_on
    if ends is None or locked.renewal_reminded_for == ends \
            or locked.status != SubscriptionStatus.ACTIVE or not locked.offer.commitment_months:
        return 0
    locked.renewal_reminded_for = ends
    locked.save(update_fields=["renewal_reminded_for"])
    account_mail(locked.account, subject=_("Renouvellement de votre abonnement"), body=_(
        "Votre engagement pour « %(label)s » se termine le %(date)s. Sans résiliation de votre "
        "part avant cette date (préavis : %(notice)s jours), il sera reconduit tacitement pour "
        "%(months)s mois. Vous pouvez résilier depuis votre espace client, rubrique "
        "Abonnement.") % {"label": locked.label, "date": date_format(ends),
                          "notice": locked.notice_days,
                          "months": locked.offer.commitment_months})
    return 1
