"""The secretaries' agenda: day and week grids, booking with the slot picker, an
appointment's page (move, cancel, honoured / absent), and the call screen's panel (the next
free slots for the caller's motif, booked in one click)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from permanence.accounts.forms import apply_field_errors
from permanence.core.access import AuthedHttpRequest, role_required
from permanence.core.errors import DomainError, NotFound, error_text
from permanence.desk import selectors as desk_selectors

from . import grid, pages, selectors, services
from .forms import BookForm, CancelForm, MoveForm
from .models import AppointmentStatus, Origin
from .permissions import can_book

agenda_required = role_required(lambda u: u.is_active and can_book(u)
                                and not getattr(u, "is_client", False))


def _kind_of(request: AuthedHttpRequest, account: Any = None) -> Any:
    pk = pages._int(request.GET.get("type") or request.POST.get("type"))
    if pk is None:
        return None
    kind = selectors.types_visible_to(request.user).filter(pk=pk, active=True).first()
    if kind is None or (account is not None and kind.account_id != account.pk):
        return None
    return kind


@agenda_required
def home(request: AuthedHttpRequest) -> HttpResponse:
    view = pages.agenda_view(request.user, request.GET)
    context = {"view": view, "hours": grid.hours(), "base": "staff_base.html",
               "home_url": "agenda:home", "book_url": "agenda:book", "setup_url": "agenda:setup"}
    if request.htmx and request.GET.get("partial") == "grid":
        return render(request, "agenda/_grid.html", context)
    return render(request, "agenda/home.html", context)


@agenda_required
def slots_fragment(request: AuthedHttpRequest) -> HttpResponse:
    """The slot picker of a type (htmx), from a date, optionally for one resource."""
    kind = _kind_of(request)
    days = []
    if kind is not None:
        resources = None
        resource_pk = pages._int(request.GET.get("ressource"))
        if resource_pk:
            resources = [r for r in kind.resources.filter(active=True) if r.pk == resource_pk]
        days = pages.picker(kind, start=pages.optional_date(request.GET.get("date")),
                            resources=resources)
    return render(request, "agenda/_picker.html", {"days": days, "kind": kind,
                                                   "selected": request.GET.get("slot", "")})


@agenda_required
def book(request: AuthedHttpRequest) -> HttpResponse:
    view = pages.agenda_view(request.user, request.GET if request.method == "GET"
                             else request.POST)
    kind = _kind_of(request, view.account)
    form = BookForm(request.POST or None)
    status = 200
    if request.method == "POST" and kind is not None and form.is_valid():
        resource_pk, start = form.cleaned_data["slot"]
        resource = next((r for r in view.resources if r.pk == resource_pk), None)
        try:
            if resource is None:
                raise NotFound(_("Agenda introuvable."))
            appointment = services.appointment_book(
                actor=request.user, kind=kind, start=start, resource=resource,
                booking=_booking(form, origin=Origin.SECRETARIAT))
        except DomainError as exc:
            apply_field_errors(form, {("slot" if k == "start" else k): v
                                      for k, v in exc.fields.items()}, error_text(exc))
            status = exc.status
        else:
            messages.success(request, _("Rendez-vous enregistré ; le contact est prévenu."))
            return redirect("agenda:appointment", pk=appointment.pk)
    elif request.method == "POST":
        status = 422
        if kind is None:
            form.add_error(None, _("Choisissez un type de rendez-vous."))
    days = pages.picker(kind) if kind is not None else []
    return render(request, "agenda/book.html", {
        "view": view, "kind": kind, "form": form, "days": days,
        "selected": request.POST.get("slot", "")}, status=status)


def _booking(form: BookForm, *, origin: str, **extra: Any) -> services.Booking:
    data = form.cleaned_data
    return services.Booking(
        contact=services.Contact(name=data["contact_name"], phone=data["contact_phone"],
                                 email=data["contact_email"]),
        notes=data.get("notes") or "", origin=origin, **extra)


@agenda_required
def appointment(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    a = selectors.get_appointment_for_user(request.user, pk)
    return _appointment_page(request, a)


def _appointment_page(request: AuthedHttpRequest, a: Any, *, move_form: Any = None,
                      cancel_form: Any = None, status: int = 200) -> HttpResponse:
    return render(request, "agenda/appointment.html", {
        "a": a, "tz": selectors.resource_tz(a.resource),
        "history": list(a.status_history.select_related("actor")),
        "moves": list(a.moves.select_related("actor", "from_resource", "to_resource")),
        "reminders": list(a.reminders.all()),
        "move_form": move_form or MoveForm(), "cancel_form": cancel_form or CancelForm(),
        "days": pages.picker(a.type) if a.status == AppointmentStatus.CONFIRMED else [],
        "can_mark": a.status in (AppointmentStatus.CONFIRMED, AppointmentStatus.HONOURED,
                                 AppointmentStatus.NO_SHOW),
        "base": "staff_base.html", "back_url": "agenda:home",
    }, status=status)


@require_POST
@agenda_required
def move(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    a = selectors.get_appointment_for_user(request.user, pk)
    form = MoveForm(request.POST)
    if not form.is_valid():
        return _appointment_page(request, a, move_form=form, status=422)
    resource_pk, start = form.cleaned_data["slot"]
    resource = a.type.resources.filter(pk=resource_pk).first()
    try:
        if resource is None:
            raise NotFound(_("Agenda introuvable."))
        services.appointment_move(actor=request.user, appointment=a, start=start,
                                  resource=resource)
    except DomainError as exc:
        apply_field_errors(form, {("slot" if k == "start" else k): v
                                  for k, v in exc.fields.items()}, error_text(exc))
        return _appointment_page(request, a, move_form=form, status=exc.status)
    messages.success(request, _("Rendez-vous déplacé ; le contact est prévenu."))
    return redirect("agenda:appointment", pk=a.pk)


@require_POST
@agenda_required
def cancel(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    a = selectors.get_appointment_for_user(request.user, pk)
    form = CancelForm(request.POST)
    if not form.is_valid():
        return _appointment_page(request, a, cancel_form=form, status=422)
    try:
        services.appointment_cancel(actor=request.user, appointment=a,
                                    reason=form.cleaned_data["reason"])
    except DomainError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("Rendez-vous annulé ; le contact est prévenu."))
    return redirect("agenda:appointment", pk=a.pk)


@require_POST
@agenda_required
def mark(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    a = selectors.get_appointment_for_user(request.user, pk)
    try:
        services.appointment_mark(actor=request.user, appointment=a,
                                  status=request.POST.get("status", "")[:20])
    except DomainError as exc:
        messages.error(request, error_text(exc))
    return redirect("agenda:appointment", pk=a.pk)


# --------------------------------------------------------------------------- call screen


def _call_context(request: AuthedHttpRequest, call: Any, **extra: Any) -> dict[str, Any]:
    kinds = list(selectors.types_visible_to(request.user).filter(
        account_id=call.account_id, active=True)) if call.account_id else []
    kind = _kind_of(request, call.account) or _guess_kind(kinds, call)
    booked = list(selectors.appointments_visible_to(request.user).filter(
        call_id=call.pk).select_related("resource", "type"))
    return {"call": call, "kinds": kinds, "kind": kind, "booked": booked,
            "days": pages.picker(kind, limit=12, days=14) if kind else [],
            "contact": {"name": call.caller_name, "phone": call.from_number
                        if call.from_number.startswith("+") else ""}, **extra}


def _guess_kind(kinds: list[Any], call: Any) -> Any:
    """The type whose name is the caller's motif (the consignes' label or code), else the
    only one there is."""
    motif = (call.motif or "").casefold()
    for k in kinds:
        if motif and (k.name.casefold() == motif or motif in k.name.casefold()):
            return k
    return kinds[0] if len(kinds) == 1 else None


@agenda_required
def call_slots(request: AuthedHttpRequest, call_id: int) -> HttpResponse:
    call = desk_selectors.get_call_for_user(request.user, call_id)
    return render(request, "agenda/_call_panel.html", _call_context(request, call))


@require_POST
@agenda_required
def call_book(request: AuthedHttpRequest, call_id: int) -> HttpResponse:
    """One click on a slot books it for the caller (the name and number the call knows).
    Without a name yet, the click holds the slot for a few minutes (the caller is still
    spelling it); « Confirmer » then books the held slot, « Libérer » lets it go."""
    call = desk_selectors.get_call_for_user(request.user, call_id)
    form = BookForm(request.POST)
    kind = _kind_of(request, call.account)
    hold = _held(request, call)
    error, status, held = "", 200, None
    try:
        if kind is None:
            raise DomainError("invalid", _("Choisissez un type de rendez-vous."), status=422)
        if hold is not None and "release" in request.POST:
            services.appointment_cancel(actor=request.user, appointment=hold,
                                        reason=_("Créneau libéré"))
        elif form.is_valid():
            resource_pk, start = form.cleaned_data["slot"]
            services.appointment_book(
                actor=request.user, kind=kind, start=start, hold=hold,
                resource=_call_resource(kind, resource_pk),
                booking=_booking(form, origin=Origin.SECRETARIAT, call_id=call.pk,
                                 conversation=call.conversation))
        elif hold is None and set(form.errors) == {"contact_name"}:
            resource_pk, start = form.cleaned_data["slot"]
            held = services.appointment_hold(actor=request.user, kind=kind, start=start,
                                             resource=_call_resource(kind, resource_pk),
                                             call_id=call.pk)
        else:
            raise DomainError("invalid", " ".join(
                str(e) for errors in form.errors.values() for e in errors), status=422)
    except DomainError as exc:
        error, status = error_text(exc), exc.status
    done = not error and held is None and "release" not in request.POST
    if not request.htmx:
        if error:
            messages.error(request, error)
        elif done:
            messages.success(request, _("Rendez-vous enregistré ; le contact est prévenu."))
        return redirect("desk:call", pk=call.pk)
    context = _call_context(request, call, error=error, done=done, form=form,
                            held=held or (hold if error else None))
    return render(request, "agenda/_call_panel.html", context, status=status)


def _held(request: AuthedHttpRequest, call: Any) -> Any:
    """The slot this call holds, named by the form (None if not one of this call's)."""
    pk = pages._int(request.POST.get("hold"))
    if pk is None:
        return None
    return selectors.appointments_visible_to(request.user).filter(
        pk=pk, call_id=call.pk, status=AppointmentStatus.HELD).select_related(
        "resource").first()


def _call_resource(kind: Any, resource_pk: int) -> Any:
    resource = kind.resources.filter(pk=resource_pk, active=True).first()
    if resource is None:
        raise NotFound(_("Agenda introuvable."))
    return resource
