"""Reads. `conversations_visible_to` is the single gate in front of every conversation query."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from permanence.accounts import permissions
from permanence.accounts.selectors import accounts_visible_to
from permanence.core.errors import Forbidden, NotFound

from .models import Conversation


def conversations_visible_to(user: Any) -> QuerySet[Conversation]:
    """Staff: conversations of the accounts they may see. Clients: their accounts' ones."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Conversation.objects.none()
    qs = Conversation.objects.filter(merged_into__isnull=True)
    if permissions.sees_all_accounts(user):
        return qs
    return qs.filter(account__in=accounts_visible_to(user))


def can_work_conversations(user: Any) -> bool:
    """Reply, note, assign, qualify: staff who answer (not billing, not clients)."""
    return permissions.is_staff_member(user) and user.role != "billing"


def get_conversation_for_user(user: Any, pk: Any, action: str = "view") -> Conversation:
    try:
        conversation = conversations_visible_to(user).select_related(
            "account", "contact", "assignee", "team").get(pk=pk)
    except (Conversation.DoesNotExist, ValueError, TypeError):
        raise NotFound("Dossier introuvable.") from None
    if action == "work" and not can_work_conversations(user):
        raise Forbidden("Vous ne pouvez pas traiter ce dossier.")
    if action == "client" and not user.is_client:
        raise Forbidden()
    return conversation
