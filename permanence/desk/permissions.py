"""Who may do what at the desk: the one place these rules live.

Secretaries, supervisors and administrators work calls for the accounts they may see
(accounts.selectors.accounts_visible_to); billing reads call logs but takes no call. Clients
see their own accounts' calls and messages, and edit their consignes, in the espace client.
Supervisors (those who manage accounts) see every agent's state and who has not read the
consignes."""

from __future__ import annotations

from permanence.accounts.models import Role
from permanence.accounts.permissions import Actor, can_manage_accounts, is_staff_member, role_of


def can_take_calls(user: Actor) -> bool:
    """Take calls, record messages, forward them, work call backs: staff who answer."""
    return is_staff_member(user) and role_of(user) != Role.BILLING


def can_read_calls(user: Actor) -> bool:
    """Read call logs and recordings (within the accounts the user may see)."""
    return is_staff_member(user)


def can_edit_consignes(user: Actor) -> bool:
    """Staff who answer edit the consignes; clients edit their own through the portal."""
    return can_take_calls(user) or bool(getattr(user, "is_client", False))


def can_supervise_desk(user: Actor) -> bool:
    """Agents' live states, unread consignes, unknown numbers, the simulator."""
    return can_manage_accounts(user)
