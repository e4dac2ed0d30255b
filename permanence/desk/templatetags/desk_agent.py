"""The agent's state switcher in the back-office's sidebar (staff who answer calls)."""

from __future__ import annotations

from typing import Any

from django import template

from ..agents import MANUAL, agent_state_of
from ..models import AgentState, AgentStatus
from ..permissions import can_take_calls

register = template.Library()


@register.inclusion_tag("desk/_state_switcher.html", takes_context=True)
def agent_state_switcher(context: Any) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not can_take_calls(user):
        return {"show": False}
    # Read with the menu's counts when the page has them (context_processors); else here.
    prefetched = context.get("desk_status")
    status = prefetched() if callable(prefetched) else None
    state = (AgentState(user=user, status=status) if status is not None
             else agent_state_of(user))
    return {"show": True, "state": state, "label": AgentStatus(state.status).label,
            "choices": [(s.value, s.label) for s in MANUAL], "request": request,
            "csrf_token": context.get("csrf_token")}
