"""Paramètres › Durées de conservation: the rules, their durations, the job's last runs."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from permanence.core.access import AuthedHttpRequest, role_required
from permanence.core.errors import DomainError

from . import retention
from .forms_retention import ScheduleForm
from .permissions import can_manage_privacy


@role_required(can_manage_privacy)
def retention_page(request: AuthedHttpRequest) -> HttpResponse:
    form = ScheduleForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                retention.schedule_set(actor=request.user, rule=form.cleaned_data["rule"],
                                       days=form.cleaned_data["days"])
            except DomainError as exc:
                for name, msgs in exc.fields.items():
                    for msg in msgs:
                        form.add_error(name if name in form.fields else None, msg)
            else:
                messages.success(request, _("Durée de conservation enregistrée."))
                return redirect("privacy_retention")
        status = 400
    return render(request, "privacy/retention.html", {
        "section": "settings", "form": form, "rules": retention.rules_overview(),
        "runs": retention.latest_runs(), "failed_rule": form.data.get("rule", ""),
    }, status=status)


@require_POST
@role_required(can_manage_privacy)
def retention_simulate(request: AuthedHttpRequest) -> HttpResponse:
    run = retention.simulate(actor=request.user)
    messages.success(request, _("Simulation terminée : %(n)s lignes seraient traitées.")
                     % {"n": run.total})
    return redirect("privacy_retention")
