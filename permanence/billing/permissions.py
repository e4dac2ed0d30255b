"""Who may see billing (subscriptions, invoices, credit notes): the one place this rule lives."""

from __future__ import annotations

from permanence.accounts.models import Role
from permanence.accounts.permissions import Actor, role_of

BILLING_VIEWER_ROLES = (Role.ADMIN, Role.SUPERVISOR, Role.BILLING)


def can_view_billing(user: Actor) -> bool:
    """The Facturation section: billing staff, administrators and supervisors; télésecrétaires
    answer the clients' customers and have no business with their invoices."""
    return role_of(user) in BILLING_VIEWER_ROLES


BILLING_MANAGER_ROLES = (Role.ADMIN, Role.BILLING)


def can_manage_billing(user: Actor) -> bool:
    """Run the invoicing, issue credit notes and refunds: billing staff and administrators
    (supervisors read)."""
    return role_of(user) in BILLING_MANAGER_ROLES


def can_view_own_invoices(user: Actor) -> bool:
    """Clients read their own accounts' invoices in the espace client."""
    return role_of(user) == Role.CLIENT
