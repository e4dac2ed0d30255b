"""Who may see and work payment incidents: the one place this rule lives (billing's rules)."""

from __future__ import annotations

from permanence.accounts.permissions import Actor
from permanence.billing.permissions import can_manage_billing, can_view_billing


def can_view_incidents(user: Actor) -> bool:
    """The board and incident pages: billing staff, administrators, supervisors."""
    return can_view_billing(user)


def can_work_incidents(user: Actor) -> bool:
    """Retry, note, resolve, match a transfer: billing staff and administrators."""
    return can_manage_billing(user)
