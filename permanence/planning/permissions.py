"""Who plans, who reads the planning, who answers the staff pulse and who reads its results:
the one place these rules live."""

from __future__ import annotations

from permanence.accounts.models import Role
from permanence.accounts.permissions import Actor, role_of

PLANNERS = (Role.SUPERVISOR, Role.ADMIN)


def can_edit_planning(user: Actor) -> bool:
    """Add, change, delete and copy shifts: supervisors and administrators."""
    return role_of(user) in PLANNERS


def can_view_planning(user: Actor) -> bool:
    """The planners see everyone's week; a secretary reads her own shifts only."""
    return role_of(user) in (*PLANNERS, Role.AGENT)


def can_answer_pulse(user: Actor) -> bool:
    """The staff pulse is the secretaries' survey."""
    return role_of(user) == Role.AGENT


def can_view_pulse_results(user: Actor) -> bool:
    """The aggregated results (never a single answer, never under the minimum count)."""
    return role_of(user) in PLANNERS
