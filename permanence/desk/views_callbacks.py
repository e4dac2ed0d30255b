"""Call backs (rappels) page: the call backs owed on the accounts the user may see, filters,
« Rappelé » and « Annuler » (services with audit); overdue ones highlighted."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from permanence.accounts.selectors import accounts_visible_to
from permanence.core import clock
from permanence.core.access import AuthedHttpRequest, role_required, safe_next
from permanence.core.counting import CappedPaginator
from permanence.core.errors import DomainError

from . import callbacks
from .models import CallbackStatus
from .permissions import can_take_calls

desk_required = role_required(lambda u: u.is_active and can_take_calls(u))
PAGE_SIZE = 50


class CallbackFilterForm(forms.Form):
    status = forms.ChoiceField(label=gettext_lazy("Statut"), required=False,
                               choices=[("", gettext_lazy("Tous")), *CallbackStatus.choices])
    account = forms.TypedChoiceField(label=gettext_lazy("Compte"), required=False, coerce=int,
                                     empty_value=None)
    mine = forms.BooleanField(label=gettext_lazy("Les miens"), required=False)
    overdue = forms.BooleanField(label=gettext_lazy("En retard"), required=False)

    def __init__(self, *args: object, user: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        accounts = accounts_visible_to(user).filter(  # type: ignore[arg-type]
            is_operator=False).order_by("name").values_list("pk", "name")
        self.fields["account"].choices = [("", _("Tous")), *accounts]  # type: ignore[attr-defined]


@desk_required
def callback_list(request: AuthedHttpRequest) -> HttpResponse:
    data = request.GET.copy()
    if "status" not in data:
        data["status"] = CallbackStatus.TODO
    form = CallbackFilterForm(data, user=request.user)
    filters: dict[str, Any] = (form.cleaned_data if form.is_valid()
                               else {"status": CallbackStatus.TODO})
    qs = callbacks.callback_list(request.user, status=filters.get("status") or "",
                                 account=filters.get("account"),
                                 mine=bool(filters.get("mine")),
                                 overdue=bool(filters.get("overdue")))
    # Counted up to 1,000: the call backs done pile up by the million over the years.
    page = CappedPaginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "desk/callbacks.html", {
        "form": form, "page": page, "now": clock.now(), "todo": CallbackStatus.TODO})


def _close(request: AuthedHttpRequest, pk: int, *, done: bool) -> HttpResponse:
    try:
        callback = callbacks.get_callback_for_user(request.user, pk)
        note = request.POST.get("note", "")[:500]
        if done:
            callbacks.callback_done(actor=request.user, callback=callback, note=note)
            messages.success(request, _("Rappel noté comme fait."))
        else:
            callbacks.callback_cancel(actor=request.user, callback=callback, note=note)
            messages.success(request, _("Rappel annulé."))
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        messages.error(request, str(exc.message))
    return redirect(safe_next(request, "desk:callbacks"))


@require_POST
@desk_required
def callback_done(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    return _close(request, pk, done=True)


@require_POST
@desk_required
def callback_cancel(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    return _close(request, pk, done=False)
