"""The planning page (supervisors edit the week; a secretary reads her own), the shift form,
« Copier la semaine précédente », and the staff pulse (« Baromètre »)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from permanence.accounts.forms import apply_field_errors
from permanence.accounts.selectors import agents as active_agents
from permanence.core import clock
from permanence.core.access import AuthedHttpRequest, role_required
from permanence.core.errors import DomainError, error_text

from . import selectors, services
from .breaks import rule
from .forms import PulseForm, ShiftForm
from .models import Shift
from .permissions import (
    can_answer_pulse,
    can_edit_planning,
    can_view_planning,
)

viewer_required = role_required(lambda u: u.is_active and can_view_planning(u))
planner_required = role_required(lambda u: u.is_active and can_edit_planning(u))
pulse_required = role_required(lambda u: u.is_active and can_answer_pulse(u))


def _today() -> date:
    return clock.now().astimezone(selectors.PARIS).date()


def _day(value: str | None) -> date | None:
    """A date from the query string, or None when absent or not one (never an error)."""
    try:
        day = date.fromisoformat((value or "")[:10])
    except ValueError:
        return None
    return day if 2000 <= day.year <= 2100 else None


def _week_url(day: date) -> str:
    return f"{reverse('planning:week')}?semaine={selectors.week_start(day).isoformat()}"


@viewer_required
def week(request: AuthedHttpRequest) -> HttpResponse:
    monday = selectors.week_start(_day(request.GET.get("semaine")) or _today())
    editable = can_edit_planning(request.user)
    grid = selectors.week_grid(monday, agent=None if editable else request.user)
    r = rule()
    return render(request, "planning/week.html", {
        "week": grid, "editable": editable, "today": _today(), "rule": r,
        "pulse_due": can_answer_pulse(request.user) and not selectors.pulse_answered(
            request.user, _today())})


def _shift_page(request: AuthedHttpRequest, form: ShiftForm, shift: Shift | None,
                status: int = 200) -> HttpResponse:
    return render(request, "planning/shift_form.html", {"form": form, "shift": shift},
                  status=status)


def _save(request: AuthedHttpRequest, form: ShiftForm, shift: Shift | None) -> HttpResponse:
    if not form.is_valid():
        return _shift_page(request, form, shift, 422)
    data = form.cleaned_data
    try:
        if shift is None:
            saved = services.shift_create(actor=request.user, agent=form.agent_user(),
                                          day=data["day"], starts_at=data["starts_at"],
                                          ends_at=data["ends_at"], note=data["note"])
        else:
            saved = services.shift_update(actor=request.user, shift=shift,
                                          agent=form.agent_user(), day=data["day"],
                                          starts_at=data["starts_at"], ends_at=data["ends_at"],
                                          note=data["note"])
    except DomainError as exc:
        apply_field_errors(form, exc.fields, error_text(exc))
        return _shift_page(request, form, shift, exc.status)
    messages.success(request, _("Créneau enregistré."))
    return redirect(_week_url(saved.day))


@planner_required
def shift_new(request: AuthedHttpRequest) -> HttpResponse:
    agents = list(active_agents())
    if request.method == "POST":
        return _save(request, ShiftForm(request.POST, agents=agents), None)
    initial: dict[str, Any] = {"day": _day(request.GET.get("jour")) or _today()}
    agent = request.GET.get("agent", "")
    if agent.isdigit() and int(agent) in {a.pk for a in agents}:
        initial["agent"] = int(agent)
    return _shift_page(request, ShiftForm(initial=initial, agents=agents), None)


@planner_required
def shift_edit(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    shift = selectors.get_shift(pk)
    if shift is None:
        raise Http404
    agents = list(active_agents())
    if shift.agent not in agents:
        agents.append(shift.agent)
    if request.method == "POST":
        return _save(request, ShiftForm(request.POST, agents=agents), shift)
    return _shift_page(request, ShiftForm(initial={
        "agent": shift.agent_id, "day": shift.day, "starts_at": shift.starts_at,
        "ends_at": shift.ends_at, "note": shift.note}, agents=agents), shift)


@require_POST
@planner_required
def shift_delete(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    shift = selectors.get_shift(pk)
    if shift is None:
        raise Http404
    services.shift_delete(actor=request.user, shift=shift)
    messages.success(request, _("Créneau supprimé."))
    return redirect(_week_url(shift.day))


@require_POST
@planner_required
def week_copy(request: AuthedHttpRequest) -> HttpResponse:
    monday = _day(request.POST.get("semaine"))
    if monday is None:
        messages.error(request, _("Semaine invalide."))
        return redirect("planning:week")
    result = services.week_copy_previous(actor=request.user, monday=monday)
    text = _("%(copied)s créneau(x) copié(s) depuis la semaine précédente.") % {
        "copied": result.copied}
    if result.skipped:
        text += " " + _("%(skipped)s ignoré(s) : ils chevauchaient un créneau déjà prévu.") % {
            "skipped": result.skipped}
    messages.success(request, text)
    return redirect(_week_url(monday))


@pulse_required
def pulse(request: AuthedHttpRequest) -> HttpResponse:
    today = _today()
    answered = selectors.pulse_answered(request.user, today)
    form = PulseForm(request.POST or None)
    context = {"form": form, "answered": answered, "month": today,
               "minimum": selectors.PULSE_MIN_RESPONSES}
    if request.method != "POST":
        return render(request, "planning/pulse.html", context)
    if answered:
        form.add_error(None, _("Vous avez déjà répondu au baromètre ce mois-ci : merci !"))
        return render(request, "planning/pulse.html", context, status=409)
    if not form.is_valid():
        return render(request, "planning/pulse.html", context, status=422)
    data = form.cleaned_data
    try:
        services.pulse_answer(user=request.user, wellbeing=data["wellbeing"],
                              workload=data["workload"], support=data["support"],
                              comment=data["comment"])
    except DomainError as exc:
        apply_field_errors(form, exc.fields, error_text(exc))
        return render(request, "planning/pulse.html", context, status=exc.status)
    messages.success(request, _("Merci ! Votre réponse anonyme est enregistrée."))
    return redirect("planning:pulse")
