"""Who may see and act on payments: the one place these rules live."""

from __future__ import annotations

from permanence.accounts.models import Role
from permanence.accounts.permissions import Actor, role_of


def can_view_payments(user: Actor) -> bool:
    """Billing staff and administrators; supervisors read."""
    return role_of(user) in (Role.ADMIN, Role.SUPERVISOR, Role.BILLING)


def can_manage_payments(user: Actor) -> bool:
    """Match transfers, refund, re-process provider events."""
    return role_of(user) in (Role.ADMIN, Role.BILLING)
