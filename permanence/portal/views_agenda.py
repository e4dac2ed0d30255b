"""Espace client → Agenda: the client sees its agenda live (who booked what), blocks time,
adds an appointment, opens one to cancel or move it. The agenda app's pages and services,
limited to the client's current account."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from permanence.accounts.forms import apply_field_errors
from permanence.agenda import grid, pages, selectors, services
from permanence.agenda.forms import BookForm, CancelForm, ExceptionForm, MoveForm
from permanence.agenda.models import AppointmentStatus, Origin
from permanence.core import clock
from permanence.core.access import AuthedHttpRequest, client_required
from permanence.core.errors import DomainError, NotFound, error_text

from .views import current_account

UPCOMING = 20


def _view(request: AuthedHttpRequest, params: Any) -> tuple[Any, Any, list[Any]]:
    account, accounts = current_account(request)
    view = pages.agenda_view(request.user, params,
                             account_ids=[account.pk] if account else [])
    return account, view, accounts


def _page(request: AuthedHttpRequest, *, block_form: Any = None,
          status: int = 200) -> HttpResponse:
    account, view, accounts = _view(request, request.GET)
    upcoming = list(selectors.appointments_visible_to(request.user).filter(
        account=account, start__gte=clock.now(), status=AppointmentStatus.CONFIRMED)
        .select_related("resource", "type", "booked_by").order_by("start")[:UPCOMING]) \
        if account else []
    context = {"account": account, "accounts": accounts, "view": view,
               "hours": grid.hours(), "upcoming": upcoming,
               "block_form": block_form or ExceptionForm(),
               "appointment_url": "portal:agenda_appointment"}
    if request.htmx and request.GET.get("partial") == "grid":
        return render(request, "agenda/_grid.html", context)
    return render(request, "portal/agenda.html", context, status=status)


@client_required
def agenda(request: AuthedHttpRequest) -> HttpResponse:
    return _page(request)


@require_POST
@client_required
def agenda_block(request: AuthedHttpRequest) -> HttpResponse:
    """Block time (an afternoon off): those slots stop being offered at once."""
    account, view, _accounts = _view(request, request.POST)
    form = ExceptionForm(request.POST)
    resource = next((r for r in view.resources
                     if r.pk == pages._int(request.POST.get("ressource_bloc"))), None)
    if resource is None:
        form.add_error(None, _("Choisissez l'agenda à bloquer."))
    if resource is None or not form.is_valid():
        return _page(request, block_form=form, status=422)
    start, end = form.in_zone(selectors.resource_tz(resource))
    try:
        services.exception_add(actor=request.user, resource=resource,
                               kind=form.cleaned_data["kind"], start=start, end=end,
                               note=form.cleaned_data["note"])
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        apply_field_errors(form, exc.fields, error_text(exc))
        return _page(request, block_form=form, status=exc.status)
    messages.success(request, _("C'est noté : ces créneaux ne sont plus proposés."))
    return redirect(f"{reverse('portal:agenda')}?date={start.date().isoformat()}"
                    f"&ressource={resource.pk}&vue=semaine")


@client_required
def agenda_book(request: AuthedHttpRequest) -> HttpResponse:
    account, view, accounts = _view(request, request.GET if request.method == "GET"
                                    else request.POST)
    pk = pages._int(request.GET.get("type") or request.POST.get("type"))
    kind = next((t for t in view.types if t.pk == pk), None)
    form = BookForm(request.POST or None)
    status = 200
    if request.method == "POST" and kind is not None and form.is_valid():
        resource_pk, start = form.cleaned_data["slot"]
        resource = next((r for r in view.resources if r.pk == resource_pk), None)
        try:
            if resource is None:
                raise NotFound(_("Agenda introuvable."))
            services.appointment_book(actor=request.user, kind=kind, start=start,
                                      resource=resource, booking=services.Booking(
                                          contact=services.Contact(
                                              name=form.cleaned_data["contact_name"],
                                              phone=form.cleaned_data["contact_phone"],
                                              email=form.cleaned_data["contact_email"]),
                                          notes=form.cleaned_data["notes"],
                                          origin=Origin.CLIENT))
        except DomainError as exc:
            if exc.status in (403, 404):
                raise
            apply_field_errors(form, {("slot" if k == "start" else k): v
                                      for k, v in exc.fields.items()}, error_text(exc))
            status = exc.status
        else:
            messages.success(request, _("Rendez-vous ajouté."))
            return redirect("portal:agenda")
    elif request.method == "POST":
        status = 422
    return render(request, "portal/agenda_book.html", {
        "account": account, "accounts": accounts, "view": view, "kind": kind, "form": form,
        "days": pages.picker(kind) if kind else [],
        "selected": request.POST.get("slot", "")}, status=status)


def _appointment(request: AuthedHttpRequest, pk: int) -> Any:
    account, _accounts = current_account(request)
    a = selectors.get_appointment_for_user(request.user, pk)
    if account is None or a.account_id != account.pk:
        raise NotFound(_("Rendez-vous introuvable."))
    return a


def _appointment_page(request: AuthedHttpRequest, a: Any, *, move_form: Any = None,
                      status: int = 200) -> HttpResponse:
    account, accounts = current_account(request)
    return render(request, "agenda/appointment.html", {
        "a": a, "tz": selectors.resource_tz(a.resource), "account": account,
        "accounts": accounts, "history": list(a.status_history.select_related("actor")),
        "moves": list(a.moves.select_related("actor")), "reminders": list(a.reminders.all()),
        "move_form": move_form or MoveForm(), "cancel_form": CancelForm(),
        "days": pages.picker(a.type) if a.status == AppointmentStatus.CONFIRMED else [],
        "can_mark": False, "base": "portal_base.html", "back_url": "portal:agenda",
        "move_url": "portal:agenda_move", "cancel_url": "portal:agenda_cancel",
    }, status=status)


@client_required
def agenda_appointment(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    return _appointment_page(request, _appointment(request, pk))


@require_POST
@client_required
def agenda_move(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    a = _appointment(request, pk)
    form = MoveForm(request.POST)
    if form.is_valid():
        resource_pk, start = form.cleaned_data["slot"]
        resource = a.type.resources.filter(pk=resource_pk).first()
        try:
            if resource is None:
                raise NotFound(_("Agenda introuvable."))
            services.appointment_move(actor=request.user, appointment=a, start=start,
                                      resource=resource)
        except DomainError as exc:
            if exc.status == 403:
                raise
            apply_field_errors(form, {("slot" if k == "start" else k): v
                                      for k, v in exc.fields.items()}, error_text(exc))
            return _appointment_page(request, a, move_form=form, status=exc.status)
        messages.success(request, _("Rendez-vous déplacé ; le contact est prévenu."))
        return redirect("portal:agenda_appointment", pk=a.pk)
    return _appointment_page(request, a, move_form=form, status=422)


@require_POST
@client_required
def agenda_cancel(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    a = _appointment(request, pk)
    form = CancelForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        services.appointment_cancel(actor=request.user, appointment=a, reason=reason)
    except DomainError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("Rendez-vous annulé ; le contact est prévenu."))
    return redirect("portal:agenda_appointment", pk=a.pk)
