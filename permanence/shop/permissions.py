"""Who may do what with orders (and quotes): the one place these rules live.

Orders: admin, supervisor and billing (comptabilité) see every order; agents see the orders
of the accounts assigned to them (accounts_visible_to); clients see their accounts' orders
(espace client and API only). Processing an order — the daily check, the client information
flag, validating, activating, cancelling, contacting the client from the order — is for
administrators and supervisors. Billing reads the board (and handles refunds on the payments
side) but does not validate: validation is a check of the client's information and set-up,
which is the operations team's job.
"""

from __future__ import annotations

from permanence.accounts.models import Role
from permanence.accounts.permissions import Actor, is_staff_member, role_of

PROCESS_ORDERS_ROLES = (Role.ADMIN, Role.SUPERVISOR)


def can_view_orders(user: Actor) -> bool:
    """The order board and staff order pages (agents: their accounts' orders only)."""
    return is_staff_member(user)


def can_process_orders(user: Actor) -> bool:
    """Check, validate, activate, cancel an order; contact its client from the order."""
    return role_of(user) in PROCESS_ORDERS_ROLES


# Validating an order whose checks are not done (not « vérifiée », client information
# incomplete) takes a supervisor's decision, with a reason kept in the order's history.
OVERRIDE_CHECKS_ROLES = (Role.ADMIN, Role.SUPERVISOR)


def can_override_order_checks(user: Actor) -> bool:
    """Validate an order although its checks are not done (with a reason)."""
    return role_of(user) in OVERRIDE_CHECKS_ROLES


def is_client(user: Actor) -> bool:
    return role_of(user) == Role.CLIENT


# --- Quotes (devis) ---------------------------------------------------------------------------
# Administrators, supervisors and billing staff build, send and follow quotes; agents have no
# access to them. Clients read their accounts' quotes (API); anyone holding a quote's link
# sees that quote, without logging in.

QUOTE_MANAGER_ROLES = (Role.ADMIN, Role.SUPERVISOR, Role.BILLING)


def can_manage_quotes(user: Actor) -> bool:
    """List, build, send, cancel and duplicate quotes; link them to client accounts."""
    return role_of(user) in QUOTE_MANAGER_ROLES
