"""Who may handle privacy and continuity matters: the one place these rules live."""

from __future__ import annotations

from permanence.accounts.models import Role
from permanence.accounts.permissions import Actor, role_of


def can_manage_privacy(user: Actor) -> bool:
    """Data subjects' requests, retention, breaches, backups: administrators (the data
    controller's delegates); supervisors and agents never erase or export people in bulk."""
    return role_of(user) == Role.ADMIN


CONSENT_ROLES = (Role.ADMIN, Role.SUPERVISOR, Role.AGENT)


def can_view_consents(user: Actor) -> bool:
    """Consentements (read-only): the staff who answer the people (administrators,
    supervisors, secretaries — the latter for their assigned accounts only, through
    accounts_visible_to), so that « qu'ai-je accepté ? » gets an answer; billing staff
    take no such question."""
    return role_of(user) in CONSENT_ROLES
