"""Who may do what with quality reviews: the one place these rules live.

Supervisors and administrators manage the grids and review agents' calls and
conversations (on the accounts they see: every account, today). A secretary reads her own
reviews only and acknowledges them; billing staff and clients have no part in it."""

from __future__ import annotations

from permanence.accounts.models import Role
from permanence.accounts.permissions import Actor, role_of

REVIEWERS = (Role.ADMIN, Role.SUPERVISOR)


def can_review_quality(user: Actor) -> bool:
    """Score calls and conversations, read every review and the averages."""
    return role_of(user) in REVIEWERS


def can_manage_grids(user: Actor) -> bool:
    return role_of(user) in REVIEWERS


def can_view_quality(user: Actor) -> bool:
    """The « Qualité » page: reviewers (everyone's reviews), secretaries (their own)."""
    return role_of(user) in (*REVIEWERS, Role.AGENT)


def can_be_reviewed(user: Actor) -> bool:
    """Whose work a review may be about: staff who answer (not billing)."""
    return role_of(user) in (*REVIEWERS, Role.AGENT)
