"""Who may do what in the inbox: the one place these rules live.

Staff see the conversations of the accounts they may see (accounts.selectors); among them,
billing reads but does not answer. Clients see their own accounts' requests in the espace
client. Inbox settings (routing, SLA targets, teams, canned replies) are for those who manage
accounts."""

from __future__ import annotations

from permanence.accounts.models import Role
from permanence.accounts.permissions import Actor, can_manage_accounts, is_staff_member, role_of


def can_see_internal_notes(user: Actor) -> bool:
    """Internal notes are for staff; clients see what was exchanged with them."""
    return is_staff_member(user)


def can_work_conversations(user: Actor) -> bool:
    """Reply, note, assign, qualify, create: staff who answer (not billing, not clients)."""
    return is_staff_member(user) and role_of(user) != Role.BILLING


def can_configure_inbox(user: Actor) -> bool:
    """Routing rules, SLA targets, teams, canned replies, channels."""
    return can_manage_accounts(user)
