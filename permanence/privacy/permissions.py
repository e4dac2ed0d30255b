"""Who may handle privacy and continuity matters: the one place these rules live."""

from __future__ import annotations

from permanence.accounts.models import Role
from permanence.accounts.permissions import Actor, role_of


def can_manage_privacy(user: Actor) -> bool:
    """Data subjects' requests, retention, breaches, backups: administrators (the data
    controller's delegates); supervisors and agents never erase or export people in bulk."""
    return role_of(user) == Role.ADMIN
