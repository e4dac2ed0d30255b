"""Reads of usage (issue 12): totals per metric over a period, and this period's consumption
of a subscription against what it includes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from dateutil.relativedelta import relativedelta
from django.db.models import QuerySet, Sum
from django.utils import timezone

from permanence.core import clock

from .models import BillingPeriod, Subscription, SubscriptionStatus
from .models_usage import Metric, UsageRecord
from .proration import Period

# Subscriptions whose period is being served (and consumed).
CONSUMING_STATUSES = (SubscriptionStatus.ACTIVE, SubscriptionStatus.CANCEL_SCHEDULED,
                      SubscriptionStatus.PAYMENT_DEFAULT)
ALERT_THRESHOLDS = (80, 100)


def usage_totals(*, account_id: int, start: datetime | None = None,
                 end: datetime | None = None) -> dict[str, Decimal]:
    """{metric: total quantity} of the account's usage in [start, end): one GROUP BY query.
    Metrics without usage are absent."""
    qs = UsageRecord.objects.filter(account_id=account_id)
    if start is not None:
        qs = qs.filter(occurred_at__gte=start)
    if end is not None:
        qs = qs.filter(occurred_at__lt=end)
    rows = qs.order_by().values("metric").annotate(total=Sum("quantity"))
    return {row["metric"]: row["total"] for row in rows}


def day_start(day: date) -> datetime:
    """Midnight of `day` in the platform's time zone (periods are calendar days)."""
    return timezone.make_aware(datetime.combine(day, time.min),
                               timezone.get_default_timezone())


def subscription_period(subscription: Subscription, *, today: date | None = None) -> Period:
    """The period being served: from current_period_start (else the start date), one month
    or one year long; moved forward whole periods until it contains `today`."""
    today = today or timezone.localdate(clock.now())
    start = subscription.current_period_start or timezone.localdate(subscription.started_at)
    months = 12 if subscription.billing_period == BillingPeriod.ANNUAL else 1
    k = 0  # a period start left behind (not yet moved by invoicing): catch up
    while k < 1200 and start + relativedelta(months=months * (k + 1)) <= today:
        k += 1
    return Period(start + relativedelta(months=months * k),
                  start + relativedelta(months=months * (k + 1)))


def _number(value: Any) -> Decimal:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return Decimal(0)
    return number if number.is_finite() and number > 0 else Decimal(0)


@dataclass(frozen=True)
class MetricConsumption:
    metric: str
    label: str
    used: Decimal
    included: Decimal
    unit_price_cents: int
    percent: int | None  # of the included quantity (None: nothing included)
    over: Decimal  # beyond the included quantity
    overage_cents: int

    @property
    def alert(self) -> int | None:
        """The highest threshold reached (80 or 100), if any."""
        if self.percent is None:
            return None
        reached = [t for t in ALERT_THRESHOLDS if self.percent >= t]
        return reached[-1] if reached else None

    @property
    def bar_value(self) -> int:
        """For a <progress max="100">: the percent, capped."""
        return min(self.percent or 0, 100)


@dataclass(frozen=True)
class Consumption:
    subscription: Subscription
    period: Period
    metrics: list[MetricConsumption]

    @property
    def overage_cents(self) -> int:
        return sum(m.overage_cents for m in self.metrics)


def subscription_consumption(subscription: Subscription, *,
                             today: date | None = None) -> Consumption:
    """This period's usage of the subscription's account, per metric, against what the
    subscription includes: percent used, quantity over, overage so far (unit price × over)."""
    period = subscription_period(subscription, today=today)
    totals = usage_totals(account_id=subscription.account_id, start=day_start(period.start),
                          end=day_start(period.end))
    included = subscription.included if isinstance(subscription.included, dict) else {}
    prices = subscription.unit_prices if isinstance(subscription.unit_prices, dict) else {}
    metrics = []
    for metric in Metric:
        if metric.value not in included and metric.value not in prices \
                and metric.value not in totals:
            continue
        used = totals.get(metric.value, Decimal(0))
        quota = _number(included.get(metric.value))
        price = int(_number(prices.get(metric.value)))
        over = max(used - quota, Decimal(0))
        percent = (int((used * 100 / quota).to_integral_value(rounding=ROUND_HALF_UP))
                   if quota > 0 else None)
        metrics.append(MetricConsumption(
            metric=metric.value, label=str(metric.label), used=used, included=quota,
            unit_price_cents=price, percent=percent, over=over,
            overage_cents=int((over * price).to_integral_value(rounding=ROUND_HALF_UP))))
    return Consumption(subscription=subscription, period=period, metrics=metrics)


def consuming_subscriptions(account_id: int) -> QuerySet[Subscription]:
    return Subscription.objects.filter(account_id=account_id, status__in=CONSUMING_STATUSES)


def account_consumption(account_id: int, *, today: date | None = None) -> list[Consumption]:
    """This period's consumption of each subscription the account is being served."""
    return [subscription_consumption(s, today=today)
            for s in consuming_subscriptions(account_id).order_by("started_at", "pk")]
