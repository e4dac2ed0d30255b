"""What the reports read of the shop: the storefront's conversion and the quotes' outcome over
a period (one aggregate query each)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Count, Q

from .models import Cart, Quote, QuoteStatus


def storefront(start: datetime, end: datetime) -> dict[str, int]:
    """Carts filled in [start, end) (at least one line) and those paid: the visitors of the
    shop are not yet client accounts, so this figure is the operator's, not an account's."""
    carts = Cart.objects.filter(created_at__gte=start, created_at__lt=end, lines__isnull=False)
    return carts.aggregate(carts=Count("pk", distinct=True),
                           paid=Count("pk", distinct=True,
                                      filter=Q(order__paid_at__isnull=False)))


def quotes(accounts: Any, account_id: int | None, start: datetime,
           end: datetime) -> dict[str, int]:
    """Quotes sent in [start, end) and, of those, accepted (whenever). Quotes of prospects
    (no account yet) count for the whole operator, not for one account."""
    qs = Quote.objects.filter(sent_at__gte=start, sent_at__lt=end)
    qs = qs.filter(account_id=account_id) if account_id else qs.filter(
        Q(account__isnull=True) | Q(account__in=accounts))
    return qs.aggregate(sent=Count("pk"),
                        accepted=Count("pk", filter=Q(status=QuoteStatus.ACCEPTED)))
