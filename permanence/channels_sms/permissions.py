"""Who may see the SMS channel's back-office pages: the one place these rules live."""

from __future__ import annotations

from permanence.accounts.models import Role
from permanence.accounts.permissions import Actor, is_staff_member, role_of, sees_all_accounts


def can_view_opt_outs(user: Actor) -> bool:
    """The opt-out list (STOP): staff who write to contacts, each on the accounts they see
    (accounts_visible_to: all of them, or an agent's assigned ones). Not billing staff (they
    send no messages; like the call recordings, kept from them), not clients."""
    return is_staff_member(user) and role_of(user) != Role.BILLING


def sees_shared_opt_outs(user: Actor) -> bool:
    """Opt-outs of a provider's shared sender belong to no account: only staff who see every
    account see them."""
    return sees_all_accounts(user)
