"""Who may manage outgoing webhooks: administrators only (secrets, private targets)."""

from __future__ import annotations

from typing import Any

from permanence.accounts.models import Role


def can_manage_webhooks(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active
                and user.role == Role.ADMIN)
