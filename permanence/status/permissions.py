"""Who may manage the incident log: the one place this rule lives."""

from __future__ import annotations

from permanence.accounts.models import Role
from permanence.accounts.permissions import Actor, role_of


def can_manage_incidents(user: Actor) -> bool:
    """Administrators and supervisors declare and follow incidents and maintenance."""
    return role_of(user) in {Role.ADMIN, Role.SUPERVISOR}
