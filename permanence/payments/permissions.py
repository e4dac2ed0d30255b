"""Who may see and act on payments: the one place these rules live."""

from __future__ import annotations

from typing import Any

from permanence.accounts.models import Role


def _role(user: Any) -> str | None:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    return str(user.role)


def can_view_payments(user: Any) -> bool:
    """Billing staff and administrators; supervisors read."""
    return _role(user) in (Role.ADMIN, Role.SUPERVISOR, Role.BILLING)


def can_manage_payments(user: Any) -> bool:
    """Match transfers, refund, re-process provider events."""
    return _role(user) in (Role.ADMIN, Role.BILLING)
