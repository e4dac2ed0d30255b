"""Who may do what with accounts and users: the one place these rules live."""

from __future__ import annotations

from typing import TypeAlias

from django.conf import settings
from django.contrib.auth.models import AnonymousUser

from .models import Role, User

# Who a rule is asked about: `request.user` is a User once logged in, an AnonymousUser before.
# A plain union rather than a Protocol: the rules read `role`, which only User has, and
# isinstance() narrows it; the lazy `request.user` passes isinstance() as what it wraps.
Actor: TypeAlias = User | AnonymousUser

ALL_ACCOUNTS_ROLES = (Role.ADMIN, Role.SUPERVISOR, Role.BILLING)
MANAGE_ACCOUNTS_ROLES = (Role.ADMIN, Role.SUPERVISOR)


def role_of(user: Actor) -> str | None:
    """The role of an active, logged-in user; None for anybody else. Every app's rules use it."""
    if not isinstance(user, User) or not user.is_active:  # a User is always authenticated
        return None
    return str(user.role)


def is_staff_member(user: Actor) -> bool:
    return role_of(user) in (Role.ADMIN, Role.SUPERVISOR, Role.AGENT, Role.BILLING)


def sees_all_accounts(user: Actor) -> bool:
    return role_of(user) in ALL_ACCOUNTS_ROLES


def can_manage_accounts(user: Actor) -> bool:
    """Create accounts, edit them, assign agents, edit their calendars."""
    return role_of(user) in MANAGE_ACCOUNTS_ROLES


def can_manage_staff(user: Actor) -> bool:
    return role_of(user) == Role.ADMIN


def can_edit_operator(user: Actor) -> bool:
    return role_of(user) == Role.ADMIN


def can_read_audit(user: Actor) -> bool:
    return role_of(user) == Role.ADMIN


def can_manage_announcements(user: Actor) -> bool:
    return role_of(user) in MANAGE_ACCOUNTS_ROLES


AGENDA_ROLES = (Role.ADMIN, Role.SUPERVISOR, Role.AGENT)


def can_use_agenda(user: Actor) -> bool:
    """The client accounts' agendas (appointments booked by the télésecrétaires): staff who
    answer; billing staff take no calls and book nothing."""
    return role_of(user) in AGENDA_ROLES


def two_factor_required(user: Actor) -> bool:
    """Staff whose role is listed in TWO_FACTOR_REQUIRED_ROLES must enrol before using the
    back-office (the policy; API bearer tokens are not concerned)."""
    role = role_of(user)
    return role is not None and is_staff_member(user) and \
        role in settings.TWO_FACTOR_REQUIRED_ROLES


def can_use_two_factor(user: Actor) -> bool:
    """Two-factor authentication is offered to staff (clients log in to the espace client
    with their password only, for now)."""
    return is_staff_member(user)
