"""Pushes to browsers over the channel layer (websockets). Called after commit only."""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction

from permanence.accounts.models import User
from permanence.core import clock
from permanence.core.consumers import user_group
from permanence.core.live_push import send_many
from permanence.core.mail import queue_email

from .models import Conversation, Notification

logger = logging.getLogger(__name__)

INBOX_GROUP = "inbox"


def conversation_group(conversation_id: int) -> str:
    return f"conversation-{conversation_id}"


def _send(group: str, payload: dict[str, Any]) -> None:
    send_many([(group, payload)])


def inbox_changed(conversation_id: int, reason: str) -> None:
    send_many([
        (INBOX_GROUP, {"type": "inbox.changed", "conversation": conversation_id,
                       "reason": reason}),
        (conversation_group(conversation_id), {"type": "conversation.changed",
                                               "conversation": conversation_id,
                                               "reason": reason}),
    ])


def message_added(conversation_id: int, message_id: int) -> None:
    send_many([
        (conversation_group(conversation_id), {"type": "conversation.message",
                                               "conversation": conversation_id,
                                               "message": message_id}),
        (INBOX_GROUP, {"type": "inbox.changed", "conversation": conversation_id,
                       "reason": "message"}),
    ])


def notify_user(user_id: int, payload: dict[str, Any]) -> None:

    _send(user_group(user_id), {"type": "notify", "payload": payload})


def notifications_create(users: Any, *, kind: str, text: str, link: str, now: Any) -> None:
    """In-app notifications that lead to a page rather than a conversation (an order, a
    quote): stored for each user, and pushed to their bell after commit."""
    users = list(users)
    Notification.objects.bulk_create([
        Notification(user=u, conversation=None, kind=kind[:20], text=text[:300],
                     link=link[:200], created_at=now) for u in users])
    for u in users:
        transaction.on_commit(partial(notify_user, u.pk,
                                      {"kind": kind, "text": text[:300], "link": link}))


@transaction.atomic
def notification_for_conversation(*, user: User, conversation: Conversation, kind: str,
                                  text: str) -> Notification:
    """An in-app notification about a conversation, pushed to the user's bell after commit,
    and an e-mail when the user wants one."""
    note = Notification.objects.create(user=user, conversation=conversation, kind=kind,
                                       text=text, created_at=clock.now())
    if getattr(user, "notify_by_email", True):
        queue_email(to=[user.email], subject=f"[Permanence] {text}"[:200],
                    body=f"{text}\n\n{settings.SITE_URL}/app/boite/{conversation.pk}/")
    payload = {"kind": kind, "text": text, "conversation": conversation.pk, "id": note.pk}
    transaction.on_commit(partial(notify_user, user.pk, payload))
    return note
