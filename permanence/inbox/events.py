"""Side effects of inbox writes: acknowledgements, outgoing mail, live updates over
websockets, notifications — deferred to commit — and webhooks, whose delivery rows are
written now, in the write's own transaction (an outbox: a crash after the commit loses none;
only the worker's wake-up waits for the commit)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from . import payloads
from .models import Conversation, Message


def _on_commit(fn: Any) -> None:
    transaction.on_commit(fn)


def _webhook(event: str, conversation_id: int, message_id: int | None = None,
             data: dict[str, Any] | None = None) -> None:
    payloads.webhooks_emit_for(event, conversation_id, message_id, data=data)


def conversation_created(conversation: Conversation, message: Message, *,
                         acknowledge: bool) -> None:
    from . import live, tasks

    conv_id = conversation.pk
    if acknowledge:
        _on_commit(lambda: tasks.send_acknowledgement.enqueue(conv_id))
    _on_commit(lambda: live.inbox_changed(conv_id, "created"))
    _webhook("conversation.created", conv_id, message.pk)
    if conversation.assignee_id:
        _on_commit(lambda: tasks.notify.enqueue(conversation.assignee_id, conv_id, "assigned",
                                                None))


def message_created(conversation: Conversation, message: Message, *,
                    deliver: bool = False) -> None:
    from . import live, tasks

    conv_id, msg_id = conversation.pk, message.pk
    if deliver:
        _on_commit(lambda: tasks.deliver_message.enqueue(msg_id, 1))
    _on_commit(lambda: live.message_added(conv_id, msg_id))
    _webhook("message.created", conv_id, msg_id)


def note_created(conversation: Conversation, message: Message, mentioned: list[Any]) -> None:
    from . import live, tasks

    conv_id, msg_id = conversation.pk, message.pk
    _on_commit(lambda: live.message_added(conv_id, msg_id))
    _webhook("message.created", conv_id, msg_id)
    for user in mentioned:
        uid = user.pk
        _on_commit(lambda uid=uid: tasks.notify.enqueue(uid, conv_id, "mention", msg_id))


def conversation_updated(conversation: Conversation, changes: dict[str, Any], *,
                         resolved: bool = False) -> None:
    from . import live, tasks

    conv_id = conversation.pk
    _on_commit(lambda: live.inbox_changed(conv_id, "updated"))
    _webhook("conversation.updated", conv_id, data={"changes": changes})
    if resolved:
        _on_commit(lambda: tasks.send_survey.enqueue(conv_id))


def conversation_assigned(conversation: Conversation, assignee: Any, actor: Any) -> None:
    from . import live, tasks

    conv_id = conversation.pk
    _on_commit(lambda: live.inbox_changed(conv_id, "assigned"))
    _webhook("conversation.updated", conv_id,
             data={"changes": {"assignee": assignee.pk if assignee else None}})
    if assignee is not None and (actor is None or assignee.pk != actor.pk):
        uid = assignee.pk
        _on_commit(lambda: tasks.notify.enqueue(uid, conv_id, "assigned", None))
