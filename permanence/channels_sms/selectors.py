"""Reads of the SMS channel's back-office pages, scoped by accounts_visible_to."""

from __future__ import annotations

from django.db.models import QuerySet

from permanence.accounts.models import ClientAccount
from permanence.accounts.permissions import Actor
from permanence.accounts.selectors import accounts_visible_to

from . import permissions
from .models import OptOut


def opt_out_accounts(user: Actor) -> QuerySet[ClientAccount]:
    """The accounts whose opt-outs `user` may filter on (the operator has no number of its
    own to be answered STOP)."""
    return accounts_visible_to(user).filter(is_operator=False).order_by("name")


def opt_outs_visible_to(user: Actor, *, account_id: int | None = None) -> QuerySet[OptOut]:
    """The numbers that sent STOP to the accounts `user` sees, newest first; the provider's
    shared-sender opt-outs (no account) too for staff who see every account. `account_id`
    narrows to one account (still only a visible one)."""
    if not permissions.can_view_opt_outs(user):
        return OptOut.objects.none()
    if permissions.sees_shared_opt_outs(user):
        qs = OptOut.objects.all()  # every account is visible: no subquery to filter by
    else:
        qs = OptOut.objects.filter(account__in=accounts_visible_to(user).values("pk"))
    if account_id is not None:
        qs = qs.filter(account_id=account_id)
    return qs.select_related("account").order_by("-created_at", "-pk")
