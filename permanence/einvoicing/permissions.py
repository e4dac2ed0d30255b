"""Who sees the e-invoicing pages: billing's roles (the one rule lives in billing)."""

from __future__ import annotations

from permanence.accounts.permissions import Actor
from permanence.billing.permissions import can_manage_billing, can_view_billing


def can_view_einvoicing(user: Actor) -> bool:
    """The platform's transmissions and the e-reporting: billing staff, administrators,
    supervisors (as the invoices)."""
    return can_view_billing(user)


def can_retransmit(user: Actor) -> bool:
    """« Retransmettre »: billing staff and administrators (supervisors read)."""
    return can_manage_billing(user)
