"""Consumption alerts (issue 12): at 80 % and at 100 % of a metric's included quantity, the
account's billing address gets one e-mail — once per subscription, period, metric and
threshold (UsageAlert rows, unique, written in the same transaction as the queued mail).
Usage that jumps past both thresholds at once sends only the 100 % mail."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from permanence.accounts.models import ClientAccount
from permanence.core import clock
from permanence.core.mail import queue_email

from .models_usage import UsageAlert
from .selectors_usage import ALERT_THRESHOLDS, Consumption, MetricConsumption, account_consumption

CONSUMPTION_PATH = "/espace/consommation/"


def _mail(account: ClientAccount, consumption: Consumption, metric: MetricConsumption,
          threshold: int) -> None:
    with translation.override(settings.LANGUAGE_CODE):
        values = {"metric": metric.label.lower(), "percent": metric.percent,
                  "used": number_format(metric.used.normalize(), use_l10n=True),
                  "included": number_format(metric.included.normalize(), use_l10n=True),
                  "plan": consumption.subscription.label, "account": account.name,
                  "end": consumption.period.last_day.strftime("%d/%m/%Y")}
        if threshold >= 100:
            subject = _("Consommation : quantité incluse atteinte (%(metric)s)") % values
            lead = _("Vous avez atteint la quantité incluse dans votre formule « %(plan)s » "
                     "pour : %(metric)s. Les unités supplémentaires sont facturées au tarif "
                     "prévu.") % values
        else:
            subject = _("Consommation : %(percent)s %% de la quantité incluse "
                        "(%(metric)s)") % values
            lead = _("Vous avez consommé %(percent)s %% de la quantité incluse dans votre "
                     "formule « %(plan)s » pour : %(metric)s.") % values
        body = "\n\n".join([
            _("Bonjour,"), lead,
            _("Compte : %(account)s. Consommé : %(used)s sur %(included)s inclus, période en "
              "cours jusqu'au %(end)s.") % values,
            _("Le détail : %(link)s") % {
                "link": settings.SITE_URL.rstrip("/") + CONSUMPTION_PATH},
        ])
    queue_email(to=[account.billing_email], subject=subject, body=body)


def usage_alerts_check(*, account_id: int, today: date | None = None) -> int:
    """Alerts due for the account's subscriptions this period: recorded and e-mailed once.
    Returns the number of e-mails queued."""
    account = ClientAccount.objects.filter(pk=account_id).first()
    if account is None:
        return 0
    queued = 0
    for consumption in account_consumption(account_id, today=today):
        subscription, start = consumption.subscription, consumption.period.start
        reached = {(m.metric, t): m for m in consumption.metrics for t in ALERT_THRESHOLDS
                   if m.percent is not None and m.percent >= t}
        if not reached:
            continue
        known = set(UsageAlert.objects.filter(subscription=subscription, period_start=start)
                    .values_list("metric", "threshold"))
        fresh: dict[str, list[int]] = {}
        with transaction.atomic():
            for metric, threshold in sorted(set(reached) - known):
                try:
                    with transaction.atomic():  # a concurrent check may have recorded it
                        UsageAlert.objects.create(
                            subscription=subscription, metric=metric, period_start=start,
                            threshold=threshold, sent_to=account.billing_email,
                            sent_at=clock.now())
                except IntegrityError:
                    continue
                fresh.setdefault(metric, []).append(threshold)
            for metric, thresholds in fresh.items():
                if account.billing_email:
                    _mail(account, consumption, reached[(metric, max(thresholds))],
                          max(thresholds))
                    queued += 1
    return queued
