"""Who may edit the catalog and the public site: the one place this rule lives."""

from __future__ import annotations

from permanence.accounts.models import Role
from permanence.accounts.permissions import Actor, role_of


def can_manage_catalog(user: Actor) -> bool:
    """Offers, public pages and CGV versions: administrators only."""
    return role_of(user) == Role.ADMIN
