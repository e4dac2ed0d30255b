"""The public status page (/statut/) and the incident log in the back-office
(/app/incidents/)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from permanence.core.access import AuthedHttpRequest, role_required
from permanence.core.errors import DomainError

from .forms import IncidentForm, IncidentUpdateForm
from .models import Incident
from .permissions import can_manage_incidents
from .selectors import WINDOWS, status_page
from .services import incident_create, incident_delete, incident_update, incident_update_add


def public_status(request: HttpRequest) -> HttpResponse:
    return render(request, "status/public.html", {"sp": status_page(), "windows": WINDOWS})


def _apply_errors(form: forms.BaseForm, error: DomainError) -> None:
    for name, msgs in error.fields.items():
        for msg in msgs:
            form.add_error(name if name in form.fields else None, msg)


@role_required(can_manage_incidents)
def incident_list(request: AuthedHttpRequest) -> HttpResponse:
    incidents = list(Incident.objects.select_related("created_by")[:300])
    return render(request, "status/incident_list.html",
                  {"section": "settings", "incidents": incidents})


@role_required(can_manage_incidents)
def incident_new(request: AuthedHttpRequest) -> HttpResponse:
    form = IncidentForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            incident = incident_create(actor=request.user, data=form.data_for_service())
        except DomainError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Intervention enregistrée."))
            return redirect("status_incident", pk=incident.pk)
    return render(request, "status/incident_form.html", {"section": "settings", "form": form},
                  status=400 if form.errors else 200)


@role_required(can_manage_incidents)
def incident_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    incident = get_object_or_404(Incident, pk=pk)
    form = IncidentForm(request.POST if request.method == "POST" else None, instance=incident)
    if request.method == "POST":
        if form.is_valid():
            try:
                incident_update(actor=request.user, incident=incident,
                                data=form.data_for_service())
            except DomainError as exc:
                _apply_errors(form, exc)
            else:
                messages.success(request, _("Intervention mise à jour."))
                return redirect("status_incident", pk=incident.pk)
        incident.refresh_from_db()
    return _detail(request, incident, form, IncidentUpdateForm())


def _detail(request: AuthedHttpRequest, incident: Incident, form: IncidentForm,
            update_form: IncidentUpdateForm) -> HttpResponse:
    return render(request, "status/incident.html", {
        "section": "settings", "incident": incident, "form": form, "update_form": update_form,
        "updates": list(incident.updates.all())},
        status=400 if form.errors or update_form.errors else 200)


@require_POST
@role_required(can_manage_incidents)
def incident_update_new(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    incident = get_object_or_404(Incident, pk=pk)
    update_form = IncidentUpdateForm(request.POST)
    if update_form.is_valid():
        try:
            incident_update_add(actor=request.user, incident=incident,
                                text=update_form.cleaned_data["text"],
                                text_en=update_form.cleaned_data["text_en"])
        except DomainError as exc:
            _apply_errors(update_form, exc)
        else:
            messages.success(request, _("Point d'étape publié."))
            return redirect("status_incident", pk=incident.pk)
    return _detail(request, incident, IncidentForm(instance=incident), update_form)


@require_POST
@role_required(can_manage_incidents)
def incident_remove(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    incident = get_object_or_404(Incident, pk=pk)
    incident_delete(actor=request.user, incident=incident)
    messages.success(request, _("Intervention supprimée."))
    return redirect("status_incidents")
