"""Espace client → Factures: the current account's invoices and credit notes, each
downloadable as its archived PDF (Factur-X)."""

from __future__ import annotations

from django.http import FileResponse, HttpResponse
from django.shortcuts import render

from permanence.billing import selectors
from permanence.billing.models_invoices import Invoice
from permanence.billing.views import pdf_response
from permanence.core.access import AuthedHttpRequest, client_required
from permanence.core.errors import NotFound

from .views import current_account


@client_required
def invoices(request: AuthedHttpRequest) -> HttpResponse:
    account, accounts = current_account(request)
    rows = selectors.invoice_page(request.user, account=account.pk, limit=200) \
        if account else []
    return render(request, "portal/invoices.html", {
        "account": account, "accounts": accounts, "invoices": rows,
        "gestures": selectors.pending_gestures(account.pk) if account else [],
        "schedules": selectors.active_schedules(account.pk) if account else []})


def _own(request: AuthedHttpRequest, number: str) -> Invoice:
    account, _accounts = current_account(request)
    invoice = selectors.get_invoice_for_user(request.user, number)
    if account is None or invoice.account_id != account.pk:
        raise NotFound()
    return invoice


@client_required
def invoice(request: AuthedHttpRequest, number: str) -> HttpResponse:
    account, accounts = current_account(request)
    found = _own(request, number)
    return render(request, "billing/invoice.html", {
        "invoice": found, "lines": list(found.lines.all()), "history": [],
        "credit_notes": list(found.credit_notes.all()), "can_manage": False,
        "base": "portal_base.html", "account": account, "accounts": accounts})


@client_required
def invoice_pdf(request: AuthedHttpRequest, number: str) -> FileResponse:
    return pdf_response(_own(request, number))
