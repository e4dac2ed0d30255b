from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from permanence.accounts.selectors import assignable_staff
from permanence.core import clock
from permanence.core.access import AuthedHttpRequest, staff_required
from permanence.core.exports import csv_chunks, xlsx_file
from permanence.planning import selectors as planning_selectors
from permanence.planning.forms import QUESTION_LABELS
from permanence.planning.permissions import can_view_pulse_results

from . import drill, exports, forms, kpis, objectives, pages, selectors
from .permissions import can_plan_staff


def _int(value: str | None, default: int, allowed: tuple[int, ...] | None = None) -> int:
    try:
        number = int(value or default)
    except ValueError:
        return default
    return number if allowed is None or number in allowed else default


def filters_from(request: AuthedHttpRequest) -> tuple[forms.ReportFilterForm, kpis.Filters | None]:
    """The filter form bound to the query string, and the checked filters (None with errors)."""
    today = clock.now().astimezone(kpis.PARIS).date()
    params = request.GET.copy()  # the last 30 days unless said otherwise
    params.setdefault("au", today.isoformat())
    params.setdefault("du", (today - timedelta(days=29)).isoformat())
    form = forms.ReportFilterForm(params, accounts=kpis.accounts_for(request.user),
                                  staff=list(assignable_staff())
                                  if can_plan_staff(request.user) else [request.user],
                                  today=today)
    if not form.is_valid():
        return form, None
    data = form.cleaned_data
    try:
        chosen = kpis.filters_for(request.user, start_day=data["du"], end_day=data["au"],
                                  account_id=data.get("compte"),
                                  agent_id=data.get("secretaire"),
                                  channel=data.get("canal") or "")
    except kpis.PeriodError as error:
        form.add_error({"to": "au", "from": "du", "account": "compte",
                        "agent": "secretaire"}.get(error.field),
                       str(error))
        return form, None
    return form, chosen


@staff_required
def home(request: AuthedHttpRequest) -> HttpResponse:
    form, chosen = filters_from(request)
    context: dict[str, Any] = {"section": "reports", "tab": "indicators", "form": form,
                               "presets": pages.presets(), "titles": pages.group_titles(),
                               "challenges": objectives.challenges_running()}
    if chosen is None:
        return render(request, "reports/home.html", context, status=422)
    groups, now = pages.tiles(request.user, chosen, reverse("reports_drill"))
    query = pages.filter_query(chosen)
    context.update(filters=chosen, groups=groups,
                   charts=pages.chart_data(request.user, chosen, now),
                   previous=chosen.previous(), query=query)
    return render(request, "reports/home.html", context)


@staff_required
def satisfaction(request: AuthedHttpRequest) -> HttpResponse:
    days = _int(request.GET.get("periode"), 90, selectors.PERIODS)
    accounts = kpis.accounts_for(request.user)
    account_id = _int(request.GET.get("compte"), 0)
    if account_id not in {a.pk for a in accounts}:
        account_id = 0
    report = selectors.satisfaction(request.user, days=days, account_id=account_id or None)
    delays = selectors.response_delays(request.user, days=days, account_id=account_id or None)
    pulse = None
    if can_view_pulse_results(request.user):  # the staff pulse: supervisors, administrators
        pulse = planning_selectors.pulse_results(
            today=clock.now().astimezone(kpis.PARIS).date())
    return render(request, "reports/satisfaction.html", {
        "section": "reports", "tab": "satisfaction", "days": days,
        "periods": selectors.PERIODS, "accounts": accounts, "account_id": account_id,
        "delays": delays, "pulse": pulse, "pulse_questions": QUESTION_LABELS,
        "pulse_minimum": planning_selectors.PULSE_MIN_RESPONSES, **report})


@staff_required
def drill_down(request: AuthedHttpRequest) -> HttpResponse:
    form, chosen = filters_from(request)
    what = request.GET.get("quoi", "dossiers")
    which = request.GET.get("filtre", "")
    if chosen is None or what not in drill.KINDS or which not in drill.KINDS[what]:
        return render(request, "reports/drill.html", {
            "section": "reports", "tab": "indicators", "form": form,
            "error": _("Filtres invalides.")}, status=422)
    page = drill.page(request.user, chosen, what, which, request.GET.get("page"))
    return render(request, "reports/drill.html", {
        "section": "reports", "tab": "indicators", "form": form, "filters": chosen,
        "what": what, "which": which, "title": drill.title(what, which), "page": page,
        "query": pages.filter_query(chosen)})


@staff_required
def export(request: AuthedHttpRequest, fmt: str) -> HttpResponseBase:
    """The indicators table (with the previous period and the formulas) as CSV or XLSX; with
    `quoi`, the drill-down's rows instead."""
    _form, chosen = filters_from(request)
    if chosen is None:
        return HttpResponse(_("Filtres invalides."), status=422, content_type="text/plain")
    what, which = request.GET.get("quoi", ""), request.GET.get("filtre", "")
    if what:
        if what not in drill.KINDS or which not in drill.KINDS[what]:
            return HttpResponse(_("Filtres invalides."), status=422, content_type="text/plain")
        table, rows = drill.table(request.user, chosen, what, which)
    else:
        table, rows = exports.indicators_table(request.user, chosen)
    name = f"{table.name}-{chosen.start_day.isoformat()}-{chosen.end_day.isoformat()}"
    if fmt == "xlsx":
        return FileResponse(xlsx_file(table, rows, title=table.name), as_attachment=True,
                            filename=f"{name}.xlsx")
    response = StreamingHttpResponse(csv_chunks(table, rows),
                                     content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response
