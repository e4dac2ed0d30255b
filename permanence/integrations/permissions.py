"""Who may manage outgoing webhooks: administrators only (secrets, private targets)."""

from __future__ import annotations

from permanence.accounts.models import Role
from permanence.accounts.permissions import Actor, role_of


def can_manage_webhooks(user: Actor) -> bool:
    return role_of(user) == Role.ADMIN
