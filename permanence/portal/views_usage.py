"""Espace client: « Consommation » (/espace/consommation/): this period's usage of the current
account's subscriptions, per metric, against what each includes (bars, overage so far, alerts
at 80 % and 100 %)."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render

from permanence.billing.selectors_usage import account_consumption
from permanence.calendars.selectors import active_notices
from permanence.core.access import AuthedHttpRequest, client_required

from .views import current_account


@client_required
def consumption(request: AuthedHttpRequest) -> HttpResponse:
    account, accounts = current_account(request)
    consumptions = account_consumption(account.pk) if account is not None else []
    return render(request, "portal/usage.html", {
        "account": account, "accounts": accounts, "consumptions": consumptions,
        "notices": active_notices(audience="portal", accounts=accounts)})
