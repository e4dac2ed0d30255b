"""Espace client: the quotes (devis) of the current account (/espace/devis/)."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render

from permanence.calendars.selectors import active_notices
from permanence.core.access import AuthedHttpRequest, client_required
from permanence.shop.models import Quote, QuoteStatus
from permanence.shop.quotes.selectors import quotes_visible_to, today

from .views import current_account

QUOTES_PER_PAGE = 25
# Quotes the client can open through their link: the ones staff have sent.
OPENABLE = (QuoteStatus.SENT, QuoteStatus.ACCEPTED, QuoteStatus.DECLINED, QuoteStatus.EXPIRED)


@client_required
def quotes(request: AuthedHttpRequest) -> HttpResponse:

    account, accounts = current_account(request)
    qs = (quotes_visible_to(request.user).filter(account=account)
          .only("reference", "status", "valid_until", "total_ttc_cents", "created_at", "token",
                "account_id").order_by("-created_at", "-id")
          if account else Quote.objects.none())
    page = Paginator(qs, QUOTES_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "shop/portal/quotes.html", {
        "account": account, "accounts": accounts, "page": page, "today": today(),
        "openable": OPENABLE, "notices": active_notices(audience="portal", accounts=accounts)})
