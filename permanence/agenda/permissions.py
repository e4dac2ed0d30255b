"""Who may do what with agendas: the one place these rules live.

Secretaries, supervisors and administrators book, move and cancel for the accounts they may
see (accounts.selectors.accounts_visible_to); billing staff book nothing. Clients manage their
own accounts' agendas in the espace client (block time, add an appointment). Supervisors and
administrators set resources, types and calendar sync up; clients may do it for their own."""

from __future__ import annotations

from permanence.accounts.models import Role
from permanence.accounts.permissions import Actor, can_manage_accounts, can_use_agenda, role_of


def can_book(user: Actor) -> bool:
    """Book, move, cancel, mark honoured / absent (within the visible accounts)."""
    return can_use_agenda(user) or role_of(user) == Role.CLIENT


def can_configure(user: Actor) -> bool:
    """Resources, appointment types, availability, sync settings, the public page."""
    return can_manage_accounts(user) or role_of(user) == Role.CLIENT


def can_view(user: Actor) -> bool:
    return can_book(user)
