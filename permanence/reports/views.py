from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render

from permanence.accounts.selectors import accounts_visible_to
from permanence.core.access import AuthedHttpRequest, staff_required

from . import selectors


def _int(value: str | None, default: int, allowed: tuple[int, ...] | None = None) -> int:
    try:
        number = int(value or default)
    except ValueError:
        return default
    return number if allowed is None or number in allowed else default


@staff_required
def home(request: AuthedHttpRequest) -> HttpResponse:
    days = _int(request.GET.get("periode"), 90, selectors.PERIODS)
    accounts = list(accounts_visible_to(request.user).filter(is_operator=False)
                    .order_by("name").only("pk", "name"))
    account_id = _int(request.GET.get("compte"), 0)
    if account_id not in {a.pk for a in accounts}:
        account_id = 0
    report = selectors.satisfaction(request.user, days=days, account_id=account_id or None)
    delays = selectors.response_delays(request.user, days=days, account_id=account_id or None)
    return render(request, "reports/home.html", {
        "section": "reports", "days": days, "periods": selectors.PERIODS, "accounts": accounts,
        "account_id": account_id, "delays": delays, **report})
