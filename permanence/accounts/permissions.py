"""Who may do what with accounts and users: the one place these rules live."""

from __future__ import annotations

from typing import Any

from .models import Role

ALL_ACCOUNTS_ROLES = (Role.ADMIN, Role.SUPERVISOR, Role.BILLING)
MANAGE_ACCOUNTS_ROLES = (Role.ADMIN, Role.SUPERVISOR)


def role_of(user: Any) -> str | None:
    """The role of an active, logged-in user; None for anybody else. Every app's rules use it."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    return str(user.role)


def is_staff_member(user: Any) -> bool:
    return role_of(user) in (Role.ADMIN, Role.SUPERVISOR, Role.AGENT, Role.BILLING)


def sees_all_accounts(user: Any) -> bool:
    return role_of(user) in ALL_ACCOUNTS_ROLES


def can_manage_accounts(user: Any) -> bool:
    """Create accounts, edit them, assign agents, edit their calendars."""
    return role_of(user) in MANAGE_ACCOUNTS_ROLES


def can_manage_staff(user: Any) -> bool:
    return role_of(user) == Role.ADMIN


def can_edit_operator(user: Any) -> bool:
    return role_of(user) == Role.ADMIN


def can_read_audit(user: Any) -> bool:
    return role_of(user) == Role.ADMIN


def can_manage_announcements(user: Any) -> bool:
    return role_of(user) in MANAGE_ACCOUNTS_ROLES
