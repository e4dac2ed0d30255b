from __future__ import annotations

from django import forms
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from permanence.accounts.permissions import can_read_audit
from permanence.audit.actions import Action
from permanence.audit.display import describe_events
from permanence.audit.selectors import audit_events
from permanence.core.access import role_required


class AuditFilterForm(forms.Form):
    actor = forms.CharField(label=_("Utilisateur"), required=False)
    action = forms.ChoiceField(label=_("Action"), required=False,
                               choices=[("", _("Toutes")), *Action.choices])
    target = forms.CharField(label=pgettext_lazy("audited object", "Objet"), required=False)
    date_from = forms.DateField(label=pgettext_lazy("date range start", "Du"), required=False,
                                widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=pgettext_lazy("date range end", "Au"), required=False,
                              widget=forms.DateInput(attrs={"type": "date"}))


@role_required(can_read_audit)
def audit_list(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    page = Paginator(audit_events(**filters), 50).get_page(request.GET.get("page"))
    return render(request, "audit/audit_list.html", {
        "form": form, "page": page, "rows": describe_events(page.object_list)})
