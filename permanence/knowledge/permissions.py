"""Who may do what with the knowledge base: the one place these rules live.

* Global articles (no account: the operator's FAQ and procedures): written by administrators
  and supervisors; read by all staff; the public ones by anybody once published.
* An account's articles: written by administrators, supervisors and the secretaries assigned
  to the account (internal procedures included); read by the staff who see the account
  (accounts.selectors.accounts_visible_to: billing staff read, they do not write). The
  account's client users read and write its public articles only (their FAQ), never the
  internal ones.
"""

from __future__ import annotations

from permanence.accounts.models import Role
from permanence.accounts.permissions import Actor, is_staff_member, role_of

from .models import Article, Visibility

GLOBAL_EDITORS = (Role.ADMIN, Role.SUPERVISOR)
ACCOUNT_EDITORS = (Role.ADMIN, Role.SUPERVISOR, Role.AGENT, Role.CLIENT)


def sees_internal(user: Actor) -> bool:
    """Internal articles (procedures) are for staff only."""
    return is_staff_member(user)


def can_use_staff_pages(user: Actor) -> bool:
    return is_staff_member(user)


def can_edit_global(user: Actor) -> bool:
    return role_of(user) in GLOBAL_EDITORS


def can_write(user: Actor) -> bool:
    """May write some article (the create page, the edit buttons)."""
    return role_of(user) in ACCOUNT_EDITORS


def can_write_in(user: Actor, *, global_article: bool, visibility: str) -> bool:
    """May write an article of this scope (the account being visible to `user` is checked by
    the selectors, which answer 404 otherwise)."""
    if global_article:
        return can_edit_global(user)
    role = role_of(user)
    if role == Role.CLIENT:
        return visibility == Visibility.PUBLIC
    return role in ACCOUNT_EDITORS


def can_edit(user: Actor, article: Article) -> bool:
    return can_write_in(user, global_article=article.account_id is None,
                        visibility=article.visibility)
