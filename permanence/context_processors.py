"""Template context shared by every page (project wiring: it may read any app)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from permanence.accounts.permissions import Actor, can_use_agenda, is_staff_member
from permanence.accounts.services import operator_identity
from permanence.billing.permissions import can_view_billing
from permanence.catalog.permissions import can_manage_catalog
from permanence.inbox.selectors import (
    inbox_unread_count,
    unread_label,
    unread_notification_count,
)
from permanence.payments.permissions import can_view_payments
from permanence.shop.permissions import can_manage_quotes


@dataclass(frozen=True)
class Can:
    """What the navigation may offer: templates ask this, they never compare role strings."""

    manage_quotes: bool
    view_payments: bool
    manage_catalog: bool
    view_billing: bool
    use_agenda: bool

    @classmethod
    def of(cls, user: Actor) -> Can:
        return cls(manage_quotes=can_manage_quotes(user), view_payments=can_view_payments(user),
                   manage_catalog=can_manage_catalog(user), view_billing=can_view_billing(user),
                   use_agenda=can_use_agenda(user))


def platform(request: HttpRequest) -> dict[str, Any]:
    """Operator identity for headers/footers, the unread notifications and the user's
    permissions; computed lazily so pages that don't use them pay nothing."""

    def unread() -> int:
        user = request.user
        if not is_staff_member(user) or user.pk is None:
            return 0
        return unread_notification_count(user)

    def inbox_unread() -> str:
        """The menu's and the tab title's unread count ("" when none): "3", "99+"."""
        user = request.user
        if not is_staff_member(user) or user.pk is None:
            return ""
        count = inbox_unread_count(user)
        return unread_label(count) if count else ""

    return {"operator": SimpleLazyObject(operator_identity),
            "unread_notifications": SimpleLazyObject(unread),
            "inbox_unread": SimpleLazyObject(inbox_unread),
            "can": SimpleLazyObject(lambda: Can.of(request.user))}
