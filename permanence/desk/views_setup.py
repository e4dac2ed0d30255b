"""New client set-up: the checklists in progress and one account's checklist (staff)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from permanence.accounts.selectors import accounts_visible_to, get_account_for_user
from permanence.core.access import AuthedHttpRequest, staff_required
from permanence.core.errors import DomainError, NotFound, error_text

from . import setup
from .permissions import can_supervise_desk, can_take_calls


@staff_required
def setup_list(request: AuthedHttpRequest) -> HttpResponse:
    return render(request, "desk/setup_list.html", {
        "views": setup.setups_in_progress(accounts_visible_to(request.user)),
    })


def _render(request: AuthedHttpRequest, account: object, status: int = 200) -> HttpResponse:
    found = setup.setup_for(account)  # type: ignore[arg-type]
    if found is None:
        raise NotFound(_("Ce compte n'a pas de mise en place."))
    return render(request, "desk/setup_detail.html", {
        "account": account, "view": setup.setup_view(found),
        "can_tick": can_take_calls(request.user),
        "can_override": can_supervise_desk(request.user),
    }, status=status)


@staff_required
def setup_detail(request: AuthedHttpRequest, account_pk: int) -> HttpResponse:
    return _render(request, get_account_for_user(request.user, account_pk))


@require_POST
@staff_required
def setup_tick(request: AuthedHttpRequest, account_pk: int) -> HttpResponse:
    account = get_account_for_user(request.user, account_pk)
    try:
        setup.setup_item_tick(actor=request.user, account=account,
                              code=request.POST.get("code", ""),
                              evidence=request.POST.get("evidence", ""),
                              undo=request.POST.get("undo") == "1")
    except DomainError as exc:
        messages.error(request, error_text(exc))
        return _render(request, account, status=exc.status)
    messages.success(request, _("Étape mise à jour."))
    return redirect("desk:setup_detail", account_pk=account.pk)


@require_POST
@staff_required
def setup_live(request: AuthedHttpRequest, account_pk: int) -> HttpResponse:
    account = get_account_for_user(request.user, account_pk)
    try:
        setup.setup_go_live(actor=request.user, account=account,
                            override_reason=request.POST.get("override_reason", ""))
    except DomainError as exc:
        messages.error(request, error_text(exc))
        return _render(request, account, status=exc.status)
    messages.success(request, _("Compte mis en service."))
    return redirect("desk:setup_detail", account_pk=account.pk)
