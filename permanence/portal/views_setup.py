"""Espace client: the set-up of the client's new service (where it stands, what is theirs to
do: fill in the consignes, approve the test calls)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from permanence.core.access import AuthedHttpRequest, client_required
from permanence.core.errors import DomainError, NotFound, error_text
from permanence.desk import setup

from .views import current_account


def _render(request: AuthedHttpRequest, status: int = 200) -> HttpResponse:
    account, accounts = current_account(request)
    found = setup.setup_for(account) if account else None
    return render(request, "portal/setup.html", {
        "account": account, "accounts": accounts,
        "view": setup.setup_view(found) if found else None,
    }, status=status)


@client_required
def setup_page(request: AuthedHttpRequest) -> HttpResponse:
    return _render(request)


@require_POST
@client_required
def setup_tick(request: AuthedHttpRequest) -> HttpResponse:
    account, _accounts = current_account(request)
    if account is None:
        raise NotFound()
    try:
        setup.setup_item_tick(actor=request.user, account=account,
                              code=request.POST.get("code", ""),
                              evidence=request.POST.get("evidence", ""),
                              undo=request.POST.get("undo") == "1")
    except DomainError as exc:
        messages.error(request, error_text(exc))
        return _render(request, status=exc.status)
    messages.success(request, _("Merci, c'est noté."))
    return redirect("portal:setup")

