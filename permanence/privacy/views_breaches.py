"""Paramètres › Registre des violations de données: the list, a new breach, one breach with
its 72-hour clock and the letter to the people concerned."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from permanence.core import clock
from permanence.core.access import AuthedHttpRequest, role_required
from permanence.core.errors import DomainError

from .breaches import breach_create, breach_update, information_letter, notification_deadline
from .forms_retention import BreachForm
from .models import Breach
from .permissions import can_manage_privacy


def _apply_errors(form: BreachForm, error: DomainError) -> None:
    for name, msgs in error.fields.items():
        for msg in msgs:
            form.add_error(name if name in form.fields else None, msg)


@role_required(can_manage_privacy)
def breach_list(request: AuthedHttpRequest) -> HttpResponse:
    now = clock.now()
    breaches = list(Breach.objects.all()[:200])
    rows = [{"breach": b, "deadline": notification_deadline(b, now)} for b in breaches]
    return render(request, "privacy/breach_list.html", {"section": "settings", "rows": rows})


@role_required(can_manage_privacy)
def breach_new(request: AuthedHttpRequest) -> HttpResponse:
    form = BreachForm(request.POST if request.method == "POST" else None,
                      initial={"discovered_at": clock.now()})
    if request.method == "POST" and form.is_valid():
        try:
            breach = breach_create(actor=request.user, data=form.data_for_service())
        except DomainError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Violation enregistrée au registre."))
            return redirect("privacy_breach", pk=breach.pk)
    return render(request, "privacy/breach_form.html", {"section": "settings", "form": form},
                  status=400 if form.errors else 200)


@role_required(can_manage_privacy)
def breach_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    breach = get_object_or_404(Breach, pk=pk)
    form = BreachForm(request.POST if request.method == "POST" else None, instance=breach)
    if request.method == "POST":
        if form.is_valid():
            try:
                breach_update(actor=request.user, breach=breach,
                              data=form.data_for_service())
            except DomainError as exc:
                _apply_errors(form, exc)
            else:
                messages.success(request, _("Violation mise à jour."))
                return redirect("privacy_breach", pk=breach.pk)
        breach.refresh_from_db()  # the form's failed values never reach the summary
    return render(request, "privacy/breach.html", {
        "section": "settings", "breach": breach, "form": form,
        "deadline": notification_deadline(breach), "letter": information_letter(breach),
    }, status=400 if form.errors else 200)
