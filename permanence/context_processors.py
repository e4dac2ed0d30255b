from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def platform(request: HttpRequest) -> dict[str, Any]:
    """Operator identity for headers/footers; computed lazily so pages that don't use it pay 0."""
    from django.utils.functional import SimpleLazyObject

    from permanence.accounts.services import operator_identity

    def unread() -> int:
        from permanence.accounts.permissions import is_staff_member
        from permanence.inbox.models import Notification

        user = request.user
        if not is_staff_member(user) or user.pk is None:
            return 0
        return Notification.objects.filter(user_id=user.pk, read_at__isnull=True).count()

    return {"operator": SimpleLazyObject(operator_identity),
            "unread_notifications": SimpleLazyObject(unread)}
