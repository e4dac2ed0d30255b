"""Rapports → Envois programmés: the reports a user receives by e-mail every week or month."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from permanence.accounts.forms import apply_field_errors
from permanence.core.access import AuthedHttpRequest, staff_required
from permanence.core.errors import DomainError

from . import forms, kpis, scheduled

FIELDS = {"what": "contenu", "account": "compte", "channel": "canal",
          "frequency": "frequence", "fmt": "format"}


@staff_required
def scheduled_exports(request: AuthedHttpRequest) -> HttpResponse:
    accounts = kpis.accounts_for(request.user)
    status = 200
    if request.method == "POST":
        form = forms.ScheduledExportForm(request.POST, accounts=accounts)
        if form.is_valid():
            data = form.cleaned_data
            what, _sep, which = (data["contenu"] or "").partition(":")
            try:
                scheduled.scheduled_export_create(
                    actor=request.user, what=what, which=which, account_id=data["compte"],
                    channel=data["canal"] or "", frequency=data["frequence"],
                    fmt=data["format"])
            except DomainError as exc:
                apply_field_errors(form, {FIELDS.get(k, k): v for k, v in exc.fields.items()},
                                   str(exc.message))
            else:
                messages.success(request, _("Envoi programmé : vous le recevrez par e-mail."))
                return redirect("reports_scheduled_exports")
        status = 422
    else:  # « Recevoir par e-mail » on the indicators page carries its filters
        form = forms.ScheduledExportForm(initial={
            "compte": request.GET.get("compte", ""), "canal": request.GET.get("canal", ""),
            "contenu": request.GET.get("contenu", "")}, accounts=accounts)
    return render(request, "reports/scheduled.html", {
        "section": "reports", "tab": "scheduled", "form": form,
        "rows": [scheduled.describe(e) for e in scheduled.scheduled_of(request.user)]},
        status=status)


@require_POST
@staff_required
def scheduled_export_delete(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    scheduled.scheduled_export_delete(actor=request.user, pk=pk)
    messages.success(request, _("Envoi programmé arrêté."))
    return redirect("reports_scheduled_exports")
