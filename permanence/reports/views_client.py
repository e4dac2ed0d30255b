"""Espace client › Rapports: this month's figures live, and the monthly activity reports
(PDF) of the last twelve months — for the account's own clients only."""

from __future__ import annotations

from datetime import date

from django.http import HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.utils.translation import gettext as _

from permanence.accounts.models import ClientAccount
from permanence.accounts.selectors import PORTAL_ACCOUNT_SESSION_KEY, client_current_account
from permanence.core import clock
from permanence.core.access import AuthedHttpRequest, client_required
from permanence.core.errors import NotFound

from . import kpis, monthly


def _account(request: AuthedHttpRequest) -> ClientAccount:
    account, _accounts = client_current_account(
        request.user, request.session.get(PORTAL_ACCOUNT_SESSION_KEY))
    if account is None:
        raise NotFound(_("Aucun compte client."))
    return account


@client_required
def client_reports(request: AuthedHttpRequest) -> HttpResponse:
    account = _account(request)
    today = clock.now().astimezone(kpis.PARIS).date()
    live = monthly.figures(account, today)  # this month so far, against last month
    return render(request, "reports/client.html", {
        "account": account, "live": live, "today": today,
        "months": monthly.months_available(account, today)})


@client_required
def client_pdf(request: AuthedHttpRequest, year: int, month: int) -> HttpResponseBase:
    account = _account(request)
    today = clock.now().astimezone(kpis.PARIS).date()
    try:
        wanted = date(year, month, 1)
    except ValueError as error:
        raise NotFound(_("Mois inconnu.")) from error
    if wanted not in monthly.months_available(account, today, count=24):
        raise NotFound(_("Ce rapport n'existe pas (encore)."))
    response = HttpResponse(monthly.pdf(account, wanted), content_type="application/pdf")
    response["Content-Disposition"] = (
        f'inline; filename="rapport-{account.slug}-{wanted:%Y-%m}.pdf"')
    return response



