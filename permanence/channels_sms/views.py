"""Back-office pages of the SMS channel: the opt-outs (numbers that sent STOP), per account."""

from __future__ import annotations

from django import forms
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from permanence.core.access import AuthedHttpRequest, role_required

from . import permissions, selectors

opt_outs_required = role_required(permissions.can_view_opt_outs)
PAGE_SIZE = 50


class OptOutFilterForm(forms.Form):
    account = forms.TypedChoiceField(label=gettext_lazy("Compte"), required=False, coerce=int,
                                     empty_value=None)

    def __init__(self, *args: object, user: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        accounts = selectors.opt_out_accounts(user).values_list(  # type: ignore[arg-type]
            "pk", "name")
        self.fields["account"].choices = [("", _("Tous")), *accounts]  # type: ignore[attr-defined]


@opt_outs_required
def opt_out_list(request: AuthedHttpRequest) -> HttpResponse:
    form = OptOutFilterForm(request.GET or None, user=request.user)
    account_id = form.cleaned_data.get("account") if form.is_valid() else None
    page = Paginator(selectors.opt_outs_visible_to(request.user, account_id=account_id),
                     PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "channels_sms/opt_outs.html", {"form": form, "page": page})
