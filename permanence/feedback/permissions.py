"""Who reads and works the improvement board: the one place these rules live. Anyone may
leave an opinion (the public form)."""

from __future__ import annotations

from permanence.accounts.models import Role
from permanence.accounts.permissions import Actor, role_of


def can_view_feedback(user: Actor) -> bool:
    """The team that improves the site and the service: administrators and supervisors."""
    return role_of(user) in (Role.ADMIN, Role.SUPERVISOR)


def can_manage_feedback(user: Actor) -> bool:
    return role_of(user) in (Role.ADMIN, Role.SUPERVISOR)
