"""Who may edit the catalog and the public site: the one place this rule lives."""

from __future__ import annotations

from typing import Any

from permanence.accounts.models import Role


def can_manage_catalog(user: Any) -> bool:
    """Offers, public pages and CGV versions: administrators only."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return str(user.role) == Role.ADMIN
