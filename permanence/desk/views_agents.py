"""Agents' states: the supervisors' board (live), each agent's own switcher, and — in
telephony test mode — the « Simuler un appel » button (the events a PBX would send)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from permanence.accounts.models import ContactChannel
from permanence.core import clock
from permanence.core.access import AuthedHttpRequest, role_required, safe_next
from permanence.core.errors import DomainError
from permanence.core.validators import normalise_phone, phone_display

from . import agents, calls
from .models import AgentStatus
from .permissions import can_supervise_desk, can_take_calls

desk_required = role_required(lambda u: u.is_active and can_take_calls(u))
supervisor_required = role_required(lambda u: u.is_active and can_supervise_desk(u))


class SimulateForm(forms.Form):
    to = forms.CharField(label=gettext_lazy("Numéro appelé"), max_length=32)
    from_number = forms.CharField(label=gettext_lazy("Appelant"), max_length=32,
                                  initial="+33612345678")
    abandon = forms.BooleanField(label=gettext_lazy("L'appelant raccroche avant qu'on "
                                                    "décroche"), required=False)

    def clean_to(self) -> str:
        try:
            return normalise_phone(self.cleaned_data["to"])
        except ValidationError as exc:
            raise ValidationError(exc.messages[0]) from None

    def clean_from_number(self) -> str:
        try:
            return normalise_phone(self.cleaned_data["from_number"])
        except ValidationError as exc:
            raise ValidationError(exc.messages[0]) from None


def _numbers() -> list[tuple[str, str]]:
    rows = (ContactChannel.objects.filter(kind=ContactChannel.Kind.PHONE)
            .select_related("account").order_by("account__name")[:200])
    return [(c.value, f"{c.account.name} — {phone_display(c.value)}") for c in rows]


@supervisor_required
def board(request: AuthedHttpRequest) -> HttpResponse:
    """Everyone's state; the table alone when htmx refreshes it (a state changed)."""
    context = {"people": agents.agents_board(), "now": clock.now(),
               "test_mode": calls.telephony_test_mode(), "numbers": _numbers(),
               "simulate_form": SimulateForm()}
    if request.htmx:
        return render(request, "desk/_agents_table.html", context)
    return render(request, "desk/agents.html", context)


@require_POST
@desk_required
def agent_state(request: AuthedHttpRequest) -> HttpResponse:
    """The switcher: disponible, en pause, absent."""
    status = request.POST.get("status", "")
    try:
        state = agents.agent_state_choose(user=request.user, status=status)
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Votre état : %(s)s.")
                         % {"s": AgentStatus(state.status).label})
    return redirect(safe_next(request, "desk:callbacks"))


@require_POST
@supervisor_required
def simulate(request: AuthedHttpRequest) -> HttpResponse:
    """Test mode only: one inbound call, as a PBX would report it, processed here."""
    if not calls.telephony_test_mode():
        raise Http404
    form = SimulateForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, str(errors[0]))
        return redirect("desk:agents")
    data = form.cleaned_data
    call = calls.simulate_in_process(to=data["to"], from_number=data["from_number"],
                                     abandon=data["abandon"])
    if call is None:
        messages.error(request, _("L'appel simulé n'a pas pu être traité."))
    else:
        messages.success(request, _("Appel simulé vers %(to)s : %(outcome)s.") % {
            "to": phone_display(data["to"]),
            "outcome": call.get_outcome_display() or call.get_state_display()})
    return redirect("desk:agents")
