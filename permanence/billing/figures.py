"""What the reports read of billing: revenue invoiced, monthly recurring revenue, churn and
retention of client accounts over a period. Formulas are stated to people by reports.kpis."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.db.models import Q, Sum

from .models import Subscription
from .models_invoices import DocumentKind, Invoice
from .subscriptions import options_cents


def revenue_cents(accounts: Any, account_id: int | None, start_day: date,
                  end_day: date) -> int | None:
    """Invoices issued in [start_day, end_day] less the credit notes issued then, HT."""
    qs = Invoice.objects.filter(account__in=accounts, issued_on__gte=start_day,
                                issued_on__lte=end_day)
    if account_id:
        qs = qs.filter(account_id=account_id)
    sums = qs.aggregate(
        invoiced=Sum("total_ht_cents", filter=Q(kind=DocumentKind.INVOICE)),
        credited=Sum("total_ht_cents", filter=Q(kind=DocumentKind.CREDIT_NOTE)))
    if sums["invoiced"] is None and sums["credited"] is None:
        return None
    return (sums["invoiced"] or 0) - (sums["credited"] or 0)


def _live(started_at: datetime, ends_on: date | None, at: datetime, at_day: date) -> bool:
    return started_at < at and (ends_on is None or ends_on >= at_day)


def recurring(accounts: Any, account_id: int | None, *, start: datetime, end: datetime,
              start_day: date, end_day: date) -> dict[str, Any]:
    """MRR at the end of the period and the accounts lost during it.

    A subscription is running at an instant when it started before it and its contract has
    not ended (`ends_on` empty or not yet passed). MRR: the running subscriptions' monthly
    price with their options, HT, at the period's end. Churned: accounts with a running
    subscription at the start and none at the end."""
    qs = Subscription.objects.filter(account__in=accounts, started_at__lt=end).filter(
        Q(ends_on__isnull=True) | Q(ends_on__gte=start_day))
    if account_id:
        qs = qs.filter(account_id=account_id)
    rows = list(qs.values_list("account_id", "started_at", "ends_on", "monthly_price_cents",
                               "options"))
    if not rows:
        return {"mrr_cents": None, "accounts_at_start": 0, "churned": 0}
    at_start: set[int] = set()
    at_end: set[int] = set()
    mrr = 0
    for account, started_at, ends_on, monthly, options in rows:
        if _live(started_at, ends_on, start, start_day):
            at_start.add(account)
        if _live(started_at, ends_on, end, end_day):
            at_end.add(account)
            mrr += monthly + options_cents(options or [])
    return {"mrr_cents": mrr, "accounts_at_start": len(at_start),
            "churned": len(at_start - at_end)}
