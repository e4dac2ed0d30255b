"""Side effects of inbox writes: acknowledgements, outgoing mail, live updates over
websockets, notifications — deferred to commit — and webhooks, whose delivery rows are
written now, in the write's own transaction (an outbox: a crash after the commit loses none;
only the worker's wake-up waits for the commit)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from permanence.accounts.models import User
from permanence.core import background

from . import live, payloads
from .models import Conversation, Message


def _on_commit(fn: Any) -> None:
    transaction.on_commit(fn)


def _webhook(event: str, conversation_id: int, message_id: int | None = None,
             data: dict[str, Any] | None = None) -> None:
    payloads.webhooks_emit_for(event, conversation_id, message_id, data=data)


def conversation_created(conversation: Conversation, message: Message, *,
                         acknowledge: bool) -> None:

    conv_id = conversation.pk
    if acknowledge:
        background.enqueue_with_transaction("inbox.send_acknowledgement", conv_id)
    _on_commit(lambda: live.inbox_changed(conv_id, "created"))
    _webhook("conversation.created", conv_id, message.pk)
    if conversation.assignee_id:
        background.enqueue_with_transaction("inbox.notify", conversation.assignee_id, conv_id,
                                     "assigned", None)


def message_created(conversation: Conversation, message: Message, *,
                    deliver: bool = False) -> None:

    conv_id, msg_id = conversation.pk, message.pk
    if deliver:
        background.enqueue_with_transaction("inbox.deliver_message", msg_id, 1)
    _on_commit(lambda: live.message_added(conv_id, msg_id))
    _webhook("message.created", conv_id, msg_id)


def note_created(conversation: Conversation, message: Message, mentioned: list[Any]) -> None:

    conv_id, msg_id = conversation.pk, message.pk
    _on_commit(lambda: live.message_added(conv_id, msg_id))
    _webhook("message.created", conv_id, msg_id)
    for user in mentioned:
        uid = user.pk
        background.enqueue_with_transaction("inbox.notify", uid, conv_id, "mention", msg_id)


def timeline_event(conversation: Conversation, message: Message) -> None:
    """A staff-only timeline entry (a call back made or planned): shown live, no webhook."""

    conv_id, msg_id = conversation.pk, message.pk
    _on_commit(lambda: live.message_added(conv_id, msg_id))


def conversation_updated(conversation: Conversation, changes: dict[str, Any], *,
                         resolved: bool = False) -> None:

    conv_id = conversation.pk
    _on_commit(lambda: live.inbox_changed(conv_id, "updated"))
    _webhook("conversation.updated", conv_id, data={"changes": changes})
    if resolved:
        background.enqueue_with_transaction("inbox.send_survey", conv_id)


def conversation_assigned(conversation: Conversation, assignee: User | None,
                          actor: User | None) -> None:

    conv_id = conversation.pk
    _on_commit(lambda: live.inbox_changed(conv_id, "assigned"))
    _webhook("conversation.updated", conv_id,
             data={"changes": {"assignee": assignee.pk if assignee else None}})
    if assignee is not None and (actor is None or assignee.pk != actor.pk):
        uid = assignee.pk
        background.enqueue_with_transaction("inbox.notify", uid, conv_id, "assigned", None)


def callback_due(conversation: Conversation, user: Any) -> None:
    """A planned call back is due: its agent's bell (and e-mail, per their setting)."""
    background.enqueue_with_transaction("inbox.notify", user.pk, conversation.pk, "callback",
                                        None)
