"""What the agenda's API modules share: the role gate and the account a create is about."""

from __future__ import annotations

from django.utils.translation import gettext as _

from permanence.accounts.permissions import Actor
from permanence.accounts.selectors import accounts_visible_to
from permanence.core.errors import Forbidden, NotFound, invalid

from .permissions import can_configure, can_view


def require_agenda(user: Actor) -> None:
    """403 for the roles without an agenda (billing staff), before any lookup."""
    if not can_view(user):
        raise Forbidden(_("L'agenda n'est pas accessible à votre rôle."))


def require_configure(user: Actor) -> None:
    if not can_configure(user):
        raise Forbidden(_("Vous ne pouvez pas paramétrer l'agenda de ce client."))


def visible_account(user: Actor, account_id: int | None) -> int:
    """The account a create is about: the one given (404 unless visible), or the only one
    the user sees (a client with one account may leave it out)."""
    visible = accounts_visible_to(user)
    if account_id is None:
        ids = list(visible.filter(is_operator=False).values_list("pk", flat=True)[:2])
        if len(ids) != 1:
            raise invalid(account=_("Indiquez le compte client."))
        return ids[0]
    if not visible.filter(pk=account_id).exists():
        raise NotFound(_("Compte client introuvable."))
    return account_id
