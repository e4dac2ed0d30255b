"""Who may read the reports: staff, over the accounts they may see (accounts_visible_to);
the figures of an account never reach a user who cannot see that account."""

from __future__ import annotations

from permanence.accounts.models import Role
from permanence.accounts.permissions import Actor, is_staff_member, role_of


def can_view_reports(user: Actor) -> bool:
    return is_staff_member(user)


def can_plan_staff(user: Actor) -> bool:
    """Staffing forecasts and planning: supervisors and administrators."""
    return role_of(user) in (Role.SUPERVISOR, Role.ADMIN)
