"""Espace client: the orders of the client's accounts (/espace/commandes/)."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render

from permanence.calendars.selectors import active_notices
from permanence.core import clock
from permanence.core.access import AuthedHttpRequest, client_required
from permanence.shop import selectors
from permanence.shop.documents import order_summary_pdf
from permanence.shop.models import Order

from .views import current_account

ORDERS_PER_PAGE = 25
LIST_FIELDS = ("reference", "status", "total_ttc_cents", "total_ht_cents", "created_at",
               "paid_at", "validation_due_at", "validated_at", "activation_due_at",
               "activated_at", "payment_method", "account_id")


@client_required
def orders(request: AuthedHttpRequest) -> HttpResponse:
    account, accounts = current_account(request)
    qs = (selectors.orders_visible_to(request.user).filter(account=account).only(*LIST_FIELDS)
          .order_by("-created_at", "-id") if account else Order.objects.none())
    page = Paginator(qs, ORDERS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "shop/portal/orders.html", {
        "account": account, "accounts": accounts, "page": page, "now": clock.now(),
        "notices": active_notices(audience="portal", accounts=accounts)})


@client_required
def order_detail(request: AuthedHttpRequest, reference: str) -> HttpResponse:
    order = selectors.get_client_order(request.user, reference)
    account, accounts = current_account(request)
    lines = list(order.lines.all())
    return render(request, "shop/portal/order_detail.html", {
        "account": account, "accounts": accounts, "order": order, "lines": lines,
        "vat": selectors.vat_breakdown(order, lines), "steps": selectors.progress_steps(order),
        "now": clock.now(), "notices": active_notices(audience="portal", accounts=accounts)})


@client_required
def order_pdf(request: AuthedHttpRequest, reference: str) -> HttpResponse:

    order = selectors.get_client_order(request.user, reference)
    response = HttpResponse(order_summary_pdf(order), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{order.reference}.pdf"'
    return response
