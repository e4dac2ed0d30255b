"""Pages of the quality app: the « Qualité » list (reviewers: everyone's reviews with the
averages; a secretary: her own), the grids, the scoring page of a call or a conversation
(the recording or the transcript beside the grid) and a review's page, where the reviewed
secretary acknowledges it."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from permanence.accounts.forms import apply_field_errors
from permanence.accounts.models import User
from permanence.accounts.selectors import accounts_visible_to, assignable_staff
from permanence.core.access import AuthedHttpRequest, role_required
from permanence.core.errors import DomainError, error_text
from permanence.desk.models import Call
from permanence.desk.permissions import can_read_calls
from permanence.inbox.models import Conversation

from . import selectors, services
from .forms import (
    AcknowledgeForm,
    CriterionForm,
    GridEditForm,
    GridForm,
    ReviewFilterForm,
    ReviewForm,
)
from .permissions import can_manage_grids, can_review_quality, can_view_quality

viewer_required = role_required(lambda u: u.is_active and can_view_quality(u))
reviewer_required = role_required(lambda u: u.is_active and can_review_quality(u))
manager_required = role_required(lambda u: u.is_active and can_manage_grids(u))


def _bounds(start: date | None, end: date | None) -> tuple[datetime | None, datetime | None]:
    """Whole local days: [start 00:00, the day after `end` 00:00)."""
    tz = ZoneInfo(settings.TIME_ZONE)
    return (datetime.combine(start, time.min, tzinfo=tz) if start else None,
            datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz) if end else None)


@viewer_required
def review_list(request: AuthedHttpRequest) -> HttpResponse:
    reviewer = can_review_quality(request.user)
    people = list(assignable_staff()) if reviewer else None
    accounts = list(accounts_visible_to(request.user).filter(is_operator=False)
                    .order_by("name")) if reviewer else []
    form = ReviewFilterForm(request.GET or None, agents=people, accounts=accounts)
    context: dict[str, Any] = {"form": form, "reviewer": reviewer}
    if request.GET and not form.is_valid():
        return render(request, "quality/list.html", context | {"reviews": []}, status=422)
    data = form.cleaned_data if request.GET else {}
    start, end = _bounds(data.get("du"), data.get("au"))
    mystery = {"oui": True, "non": False}.get(data.get("mystere") or "")
    filters = selectors.ReviewFilters(
        agent_id=data.get("agent") if reviewer else None, account_id=data.get("compte"),
        start=start, end=end, mystery=mystery, unacknowledged=bool(data.get("a_lire")))
    reviews = selectors.review_list(request.user, filters)
    by_agent = selectors.averages(request.user, by="agent", start=start, end=end,
                                  agent_id=filters.agent_id, account_id=filters.account_id,
                                  mystery=mystery)
    names = {u.pk: u for u in (people or [request.user])}
    context.update(
        reviews=reviews, unacknowledged=selectors.unacknowledged_count(request.user),
        agent_averages=[(names.get(pk), avg) for pk, avg in by_agent.items()
                        if pk in names])
    if reviewer:
        by_account = selectors.averages(request.user, by="account", start=start, end=end,
                                        agent_id=filters.agent_id,
                                        account_id=filters.account_id, mystery=mystery)
        account_names = {a.pk: a for a in accounts}
        context["account_averages"] = [(account_names.get(pk), avg)
                                       for pk, avg in by_account.items()
                                       if pk in account_names]
    return render(request, "quality/list.html", context)


# --- Grids -------------------------------------------------------------------------------------


@manager_required
def grid_list(request: AuthedHttpRequest) -> HttpResponse:
    form = GridForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            grid = services.grid_create(actor=request.user, name=form.cleaned_data["name"],
                                        account=form.cleaned_data["account"])
        except DomainError as exc:
            apply_field_errors(form, exc.fields, error_text(exc))
        else:
            messages.success(request, _("Grille créée : ajoutez ses critères."))
            return redirect("quality:grid", pk=grid.pk)
    status = 422 if request.method == "POST" else 200
    return render(request, "quality/grids.html", {"grids": list(selectors.grid_list()),
                                                  "form": form}, status=status)


def _grid_page(request: AuthedHttpRequest, grid: Any, *, form: GridEditForm | None = None,
               criterion_form: CriterionForm | None = None, status: int = 200) -> HttpResponse:
    criteria = selectors.grid_criteria(grid)
    return render(request, "quality/grid.html", {
        "grid": grid, "criteria": criteria,
        "form": form or GridEditForm(initial={"name": grid.name, "is_active": grid.is_active}),
        "criterion_form": criterion_form or CriterionForm(
            initial={"order": (max((c.order for c in criteria), default=0) + 1), "weight": 1}),
        "total_weight": sum(c.weight for c in criteria)}, status=status)


@manager_required
def grid_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    grid = selectors.get_grid(pk)
    if request.method != "POST":
        return _grid_page(request, grid)
    form = GridEditForm(request.POST)
    if form.is_valid():
        try:
            services.grid_update(actor=request.user, grid=grid, name=form.cleaned_data["name"],
                                 is_active=form.cleaned_data["is_active"])
        except DomainError as exc:
            apply_field_errors(form, exc.fields, error_text(exc))
        else:
            messages.success(request, _("Grille enregistrée."))
            return redirect("quality:grid", pk=grid.pk)
    return _grid_page(request, grid, form=form, status=422)


@require_POST
@manager_required
def criterion_add(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    grid = selectors.get_grid(pk)
    form = CriterionForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        try:
            services.criterion_save(actor=request.user, grid=grid, label=d["label"],
                                    description=d["description"], weight=d["weight"],
                                    order=d["order"])
        except DomainError as exc:
            apply_field_errors(form, exc.fields, error_text(exc))
        else:
            messages.success(request, _("Critère ajouté."))
            return redirect("quality:grid", pk=grid.pk)
    return _grid_page(request, grid, criterion_form=form, status=422)


@manager_required
def criterion_edit(request: AuthedHttpRequest, pk: int, criterion_pk: int) -> HttpResponse:
    grid = selectors.get_grid(pk)
    criterion = selectors.get_criterion(grid, criterion_pk)
    form = CriterionForm(request.POST or None, initial={
        "label": criterion.label, "description": criterion.description,
        "weight": criterion.weight, "order": criterion.order})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.criterion_save(actor=request.user, grid=grid, criterion=criterion,
                                    label=d["label"], description=d["description"],
                                    weight=d["weight"], order=d["order"])
        except DomainError as exc:
            apply_field_errors(form, exc.fields, error_text(exc))
        else:
            messages.success(request, _("Critère enregistré."))
            return redirect("quality:grid", pk=grid.pk)
    status = 422 if request.method == "POST" else 200
    return render(request, "quality/criterion.html", {"grid": grid, "criterion": criterion,
                                                      "form": form}, status=status)


@require_POST
@manager_required
def criterion_delete(request: AuthedHttpRequest, pk: int, criterion_pk: int) -> HttpResponse:
    grid = selectors.get_grid(pk)
    services.criterion_delete(actor=request.user,
                              criterion=selectors.get_criterion(grid, criterion_pk))
    messages.success(request, _("Critère retiré de la grille (les évaluations passées le "
                                "gardent)."))
    return redirect("quality:grid", pk=grid.pk)


# --- Scoring -----------------------------------------------------------------------------------


def _score_page(request: AuthedHttpRequest, *, call: Call | None = None,
                conversation: Conversation | None = None) -> HttpResponse:
    subject: Any = call if call is not None else conversation
    grid = selectors.grid_for_account(subject.account)
    criteria = list(grid.criteria.all()) if grid is not None else []
    agents = selectors.conversation_agents(conversation) if conversation is not None else None
    initial = ({"agent": conversation.assignee_id}
               if conversation is not None and conversation.assignee_id else {})
    form = ReviewForm(request.POST or None, criteria=criteria, agents=agents, initial=initial)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            agent = None
            if agents is not None:
                agent = next((u for u in agents if u.pk == form.cleaned_data["agent"]), None)
            try:
                review = services.review_create(
                    actor=request.user, scores=form.scores(),
                    coaching=form.cleaned_data["coaching"],
                    mystery=form.cleaned_data["mystery"], call=call,
                    conversation=conversation, agent=agent)
            except DomainError as exc:
                if exc.status in (403, 404):
                    raise
                apply_field_errors(form, exc.fields, error_text(exc))
            else:
                messages.success(request, _("Évaluation enregistrée : la télésecrétaire la "
                                            "verra dans « Qualité »."))
                return redirect("quality:review", pk=review.pk)
    return render(request, "quality/score.html", {
        "call": call, "conversation": conversation, "subject": subject, "grid": grid,
        "form": form, "account": subject.account,
        "agent": selectors.call_agent(call) if call is not None else None,
        "can_listen": call is not None and bool(call.recording_url)
        and can_read_calls(request.user),
        "transcript": selectors.transcript(conversation) if conversation is not None else [],
        "previous": selectors.reviews_of_call(call) if call is not None
        else selectors.reviews_of_conversation(subject),
    }, status=status)


@reviewer_required
def review_call(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    return _score_page(request, call=selectors.reviewable_call(request.user, pk))


@reviewer_required
def review_conversation(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    return _score_page(request,
                       conversation=selectors.reviewable_conversation(request.user, pk))


# --- A review ----------------------------------------------------------------------------------


def _review_page(request: AuthedHttpRequest, review: Any, *,
                 form: AcknowledgeForm | None = None, status: int = 200) -> HttpResponse:
    user: User = request.user
    return render(request, "quality/review.html", {
        "review": review, "scores": list(review.scores.all()),
        "is_agent": review.agent_id == user.pk,
        "form": form or AcknowledgeForm(), "reviewer": can_review_quality(user)},
        status=status)


@viewer_required
def review_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    return _review_page(request, selectors.get_review_for_user(request.user, pk))


@require_POST
@viewer_required
def review_acknowledge(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    review = selectors.get_review_for_user(request.user, pk)
    form = AcknowledgeForm(request.POST)
    if not form.is_valid():
        return _review_page(request, review, form=form, status=422)
    try:
        services.review_acknowledge(actor=request.user, review=review,
                                    reply=form.cleaned_data["reply"])
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        apply_field_errors(form, exc.fields, error_text(exc))
        return _review_page(request, review, form=form, status=exc.status)
    messages.success(request, _("Merci : votre prise de connaissance est enregistrée."))
    return redirect("quality:review", pk=review.pk)
