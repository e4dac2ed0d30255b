"""Paramètres: the settings hub, announcements, and an account's business calendar."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from permanence.accounts import permissions
from permanence.accounts.selectors import get_account_for_user
from permanence.core import clock
from permanence.core.access import AuthedHttpRequest, role_required, staff_required
from permanence.core.errors import DomainError

from .announcements import announcement_create, announcement_delete
from .forms import AnnouncementForm, CalendarForm, ClosureForm
from .models import Announcement
from .services import calendar_for_account, calendar_set, calendar_to_json


@staff_required
def settings_index(request: AuthedHttpRequest) -> HttpResponse:
    user = request.user
    return render(request, "calendars/settings.html", {
        "can_operator": permissions.can_edit_operator(user),
        "can_staff": permissions.can_manage_staff(user),
        "can_audit": permissions.can_read_audit(user),
        "can_announce": permissions.can_manage_announcements(user),
        # Consentements (privacy, a layer above: not imported here) is for the staff who
        # answer people: privacy.permissions.can_view_consents, the same roles (a test
        # checks the card follows it).
        "can_consents": permissions.can_use_agenda(user),
    })


def _apply_errors(form: Any, error: DomainError) -> None:
    for key, msgs in error.fields.items():
        field = key.split(".")[-1] if key.split(".")[-1] in form.fields else None
        for msg in msgs:
            form.add_error(field, msg)


@role_required(permissions.can_manage_announcements)
def announcement_list(request: AuthedHttpRequest) -> HttpResponse:
    form = AnnouncementForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            announcement_create(actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Annonce publiée."))
            return redirect("announcements")
    now = clock.now()
    return render(request, "calendars/announcements.html", {
        "form": form,
        "current": Announcement.objects.filter(ends_at__gt=now).order_by("starts_at"),
        "past": Announcement.objects.filter(ends_at__lte=now).order_by("-ends_at")[:20],
    })


@require_POST
@role_required(permissions.can_manage_announcements)
def announcement_remove(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    announcement = get_object_or_404(Announcement, pk=pk)
    announcement_delete(actor=request.user, announcement=announcement)
    messages.success(request, _("Annonce supprimée."))
    return redirect("announcements")


@staff_required
def account_calendar(request: AuthedHttpRequest, pk: int) -> HttpResponse:

    account = get_account_for_user(request.user, pk)
    can_edit = permissions.can_manage_accounts(request.user)
    current = calendar_to_json(calendar_for_account(account))
    form = CalendarForm(initial=CalendarForm.initial_from_json(current))
    closure_form = ClosureForm()
    if request.method == "POST":
        get_account_for_user(request.user, pk, action="change")
        data = dict(current)
        if "remove_closure" in request.POST:
            index = int(request.POST.get("remove_closure", "-1"))
            data["closures"] = [c for i, c in enumerate(current["closures"]) if i != index]
            target_form: Any = closure_form
        elif "add_closure" in request.POST:
            closure_form = ClosureForm(request.POST)
            target_form = closure_form
            if not closure_form.is_valid():
                return _render_calendar(request, account, form=form, closure_form=closure_form,
                            current=current, can_edit=can_edit)
            cd = closure_form.cleaned_data
            data["closures"] = [*current["closures"], {
                "start": cd["start"].isoformat(), "end": cd["end"].isoformat(),
                "message": cd["message"],
            }]
        else:
            form = CalendarForm(request.POST)
            target_form = form
            if not form.is_valid():
                return _render_calendar(request, account, form=form, closure_form=closure_form,
                            current=current, can_edit=can_edit)
            data.update(timezone=form.cleaned_data["timezone"], weekly=form.weekly(),
                        holidays=form.cleaned_data["holidays"] or None)
        try:
            calendar_set(actor=request.user, account=account, data=data)
        except DomainError as exc:
            _apply_errors(target_form, exc)
            if not target_form.errors:
                target_form.add_error(None, str(exc.message))
            return _render_calendar(request, account, form=form, closure_form=closure_form,
                                    current=current, can_edit=can_edit, status=422)
        messages.success(request, _("Calendrier enregistré."))
        return redirect("account_calendar", pk=account.pk)
    return _render_calendar(request, account, form=form, closure_form=closure_form,
                            current=current, can_edit=can_edit)


def _render_calendar(request: AuthedHttpRequest, account: Any, *, form: Any, closure_form: Any,
                     current: dict[str, Any], can_edit: bool, status: int = 200) -> HttpResponse:
    return render(request, "calendars/calendar.html", {
        "account": account, "form": form, "closure_form": closure_form,
        "closures": current["closures"], "can_edit": can_edit,
        "own": account.calendar_id is not None or account.is_operator,
    }, status=200 if status == 200 and not (form.errors or closure_form.errors) else 422)
