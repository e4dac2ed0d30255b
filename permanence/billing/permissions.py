"""Who may see billing (subscriptions, invoices, credit notes): the one place this rule lives."""

from __future__ import annotations

from permanence.accounts.models import Role
from permanence.accounts.permissions import Actor, role_of

BILLING_VIEWER_ROLES = (Role.ADMIN, Role.SUPERVISOR, Role.BILLING)


def can_view_billing(user: Actor) -> bool:
    """The Facturation section: billing staff, administrators and supervisors; télésecrétaires
    answer the clients' customers and have no business with their invoices."""
    return role_of(user) in BILLING_VIEWER_ROLES
