"""Supervisors: the live board (queue per channel, breaches coming, agents' states and load,
today's figures against the objectives; refreshed by htmx) and the objectives and challenges
page. Every secretary sees the running challenges on the indicators page."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from permanence.accounts.forms import apply_field_errors
from permanence.accounts.selectors import assignable_staff
from permanence.core import clock
from permanence.core.access import AuthedHttpRequest, role_required, staff_required
from permanence.core.errors import DomainError
from permanence.desk.agents import agents_board
from permanence.inbox import figures as inbox_figures
from permanence.inbox.models import Channel

from . import coverage, erlang, forms, kpis, objectives, pages, permissions, staffing, team
from .models import Challenge, Objective
from .views import filters_from as views_filters

supervisor_required = role_required(lambda u: u.is_active and permissions.can_plan_staff(u))
TODAY_KEYS = ("calls_offered", "answer_rate", "service_level", "asa_seconds", "abandon_rate",
              "conversations", "first_response_median_business_seconds",
              "sla_first_response_pct", "csat_pct")


@supervisor_required
def live(request: AuthedHttpRequest) -> HttpResponse:
    now = clock.now()
    today = now.astimezone(kpis.PARIS).date()
    scope = inbox_figures.Scope(kpis.visible_accounts(request.user))
    load = inbox_figures.open_load(scope)
    people = [{"user": u, "state": getattr(u, "desk_state", None), "open": load.get(u.pk, 0)}
              for u in agents_board()]
    chosen = kpis.filters_for(request.user, start_day=today, end_day=today)
    values = kpis.compute(request.user, chosen)["values"]
    definitions = kpis.definitions()
    labels = dict(Channel.choices)
    queue = inbox_figures.live_queue(scope)
    for row in queue["channels"]:
        row["label"] = labels.get(row["channel"], row["channel"])
    context: dict[str, Any] = {
        "section": "reports", "tab": "live", "now": now, "queue": queue,
        "breaches": inbox_figures.coming_breaches(scope), "people": people,
        "today": [{"key": k, "label": definitions[k]["label"],
                   "value": pages.display(values[k], definitions[k]["unit"])}
                  for k in TODAY_KEYS],
        "objectives": [p for p in objectives.objectives_progress(today)
                       if p.item.period == "jour" and p.item.agent_id is None],
        "challenges": objectives.challenges_running(today)}
    if request.htmx:
        return render(request, "reports/_live.html", context)
    return render(request, "reports/live.html", context)


def _staff() -> Any:
    return assignable_staff()


@supervisor_required
def objectives_page(request: AuthedHttpRequest) -> HttpResponse:
    objective_form = forms.ObjectiveForm(prefix="objectif", staff=_staff())
    challenge_form = forms.ChallengeForm(prefix="challenge")
    status = 200
    if request.method == "POST":
        if "objectif-indicator" in request.POST:
            objective_form = forms.ObjectiveForm(request.POST, prefix="objectif", staff=_staff())
            status = _create(request, objective_form, lambda d: objectives.objective_create(
                actor=request.user, indicator=d["indicator"], target=d["target"],
                period=d["period"], agent=d["agent"]), _("Objectif enregistré."))
        else:
            challenge_form = forms.ChallengeForm(request.POST, prefix="challenge")
            status = _create(request, challenge_form, lambda d: objectives.challenge_create(
                actor=request.user, title=d["title"], indicator=d["indicator"],
                target=d["target"], starts_on=d["starts_on"], ends_on=d["ends_on"],
                reward=d["reward"]), _("Challenge lancé."))
        if status == 302:
            return redirect("reports_objectives")
    return render(request, "reports/objectives.html", {
        "section": "reports", "tab": "objectives", "objective_form": objective_form,
        "challenge_form": challenge_form, "progress": objectives.objectives_progress(),
        "challenges": objectives.challenges_running(),
        "upcoming": Challenge.objects.filter(starts_on__gt=clock.now().astimezone(
            kpis.PARIS).date())}, status=status)


def _create(request: AuthedHttpRequest, form: Any, create: Any, done: str) -> int:
    if not form.is_valid():
        return 422
    try:
        create(form.cleaned_data)
    except DomainError as exc:
        apply_field_errors(form, exc.fields, str(exc.message))
        return 422
    messages.success(request, done)
    return 302


@require_POST
@supervisor_required
def objective_delete(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    objectives.remove(actor=request.user, item=get_object_or_404(Objective, pk=pk))
    messages.success(request, _("Objectif supprimé."))
    return redirect("reports_objectives")


@require_POST
@supervisor_required
def challenge_delete(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    objectives.remove(actor=request.user, item=get_object_or_404(Challenge, pk=pk))
    messages.success(request, _("Challenge supprimé."))
    return redirect("reports_objectives")


@staff_required
def team_page(request: AuthedHttpRequest) -> HttpResponse:
    """Supervisors see everyone; a secretary sees their own line only."""
    form, chosen = views_filters(request)
    people = list(assignable_staff()) if permissions.can_plan_staff(request.user) else [
        request.user]
    context: dict[str, Any] = {"section": "reports", "tab": "team", "form": form,
                               "presets": pages.presets()}
    if chosen is None:
        return render(request, "reports/team.html", context, status=422)
    context.update(filters=chosen, rows=team.rows(request.user, chosen, people),
                   query=pages.filter_query(chosen))
    return render(request, "reports/team.html", context)


@supervisor_required
def staffing_page(request: AuthedHttpRequest) -> HttpResponse:
    today = clock.now().astimezone(kpis.PARIS).date()
    accounts = kpis.accounts_for(request.user)
    params = request.GET.copy()
    probe = forms.StaffingForm(None, accounts=accounts, today=today)
    for name, field in probe.fields.items():  # the assumptions' defaults until changed
        if field.initial is not None:
            params.setdefault(name, str(field.initial))
    form = forms.StaffingForm(params, accounts=accounts, today=today)
    context: dict[str, Any] = {"section": "reports", "tab": "staffing", "form": form}
    if not form.is_valid():
        return render(request, "reports/staffing.html", context, status=422)
    d = form.cleaned_data
    try:
        context["forecast"] = staffing.forecast(
            request.user, weekday=d["jour"], weeks=d["semaines"], today=today,
            account_id=d["compte"], target_seconds=d["delai"], target_level=d["niveau"] / 100,
            shrinkage=d["indisponibilite"] / 100, max_occupancy=d["occupation"] / 100,
            patience_seconds=d["patience"])
    except (kpis.PeriodError, erlang.StaffingError) as error:
        form.add_error(None, str(error))
        return render(request, "reports/staffing.html", context, status=422)
    context["weekday_label"] = dict(forms.WEEKDAYS)[d["jour"]]
    context["coverage"] = coverage.coverage(context["forecast"], d["le"])
    return render(request, "reports/staffing.html", context)
