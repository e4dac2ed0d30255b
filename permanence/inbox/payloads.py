"""Webhook payloads of the inbox, and their emission into the integrations outbox.

The inbox owns conversations and messages, so it describes them: plain functions building
JSON-ready dicts. They are a public contract (receivers parse them): the same fields, in the
same order and with the same values as the API's `ConversationOut` / `MessageOut` (without
messages), dates written as the API writes them. Change them only together with the API.

Emission happens in the caller's transaction (the write that caused the event): the rows
are read as they are at that moment, and `integrations.services.webhook_event_emit` writes
the delivery rows beside them. When no endpoint exists at all, an emission costs the
integrations' cached presence check and nothing else.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

from permanence.integrations import services as integrations
from permanence.integrations.models import WebhookDelivery

from .models import Conversation, Direction, Message

_DATES = DjangoJSONEncoder()


def _instant(value: datetime | None) -> str | None:
    """A date-time as the API writes it: ISO 8601, milliseconds, "Z" for UTC."""
    return None if value is None else str(_DATES.default(value))


def contact_payload(contact: Any) -> dict[str, Any] | None:
    if contact is None:
        return None
    return {"id": contact.pk, "name": contact.name, "email": contact.email,
            "phone": contact.phone}


def conversation_payload(conversation: Conversation) -> dict[str, Any]:
    """The conversation as the API shows it, without its messages."""
    return {
        "id": conversation.pk,
        "reference": conversation.reference,
        "account": conversation.account_id,
        "subject": conversation.subject,
        "channel": str(conversation.channel),
        "status": str(conversation.status),
        "priority": str(conversation.priority),
        "kind": str(conversation.kind),
        "category": conversation.category,
        "motif": conversation.motif,
        "tags": sorted(tag.name for tag in conversation.tags.all()),
        "assignee": conversation.assignee_id,
        "contact": contact_payload(conversation.contact),
        "first_response_due_at": _instant(conversation.first_response_due_at),
        "next_response_due_at": _instant(conversation.next_response_due_at),
        "resolution_due_at": _instant(conversation.resolution_due_at),
        "last_message_at": _instant(conversation.last_message_at),
        "created_at": _instant(conversation.created_at),
        "updated_at": _instant(conversation.updated_at),
    }


def message_payload(message: Message) -> dict[str, Any]:
    """A message as the API shows it (attachments described, never their content)."""
    return {
        "id": message.pk,
        "conversation": message.conversation_id,
        "direction": str(message.direction),
        "channel": str(message.channel),
        "author": message.author_id,
        "body_text": message.body_text,
        "created_at": _instant(message.created_at),
        "delivery_status": str(message.delivery_status),
        "attachments": [
            {"id": a.pk, "filename": a.filename, "size": a.size,
             "content_type": a.content_type}
            for a in message.attachments.all()],
    }


def event_payload(conversation: Conversation, message: Message | None = None,
                  data: dict[str, Any] | None = None) -> dict[str, Any]:
    """The subject of an inbox event: the conversation, the message if any, extra data."""
    body: dict[str, Any] = {"conversation": conversation_payload(conversation)}
    if message is not None:
        body["message"] = message_payload(message)
    if data:
        body["data"] = data
    return body


def _internal(message: Message | None) -> bool:
    # Internal notes (and system events) never reach an account's own endpoint.
    return message is not None and message.direction not in (Direction.IN, Direction.OUT)


def webhooks_emit(event: str, conversation: Conversation, message: Message | None = None, *,
                  data: dict[str, Any] | None = None) -> list[WebhookDelivery]:
    """Emit `event` about these rows now, in the caller's transaction: one delivery per
    endpoint that wants it, sent by the worker once the transaction commits."""
    return integrations.webhook_event_emit(
        event=event, account_id=conversation.account_id, internal=_internal(message),
        payload=lambda: event_payload(conversation, message, data))


def webhooks_emit_for(event: str, conversation_id: int, message_id: int | None = None, *,
                      data: dict[str, Any] | None = None) -> list[WebhookDelivery]:
    """`webhooks_emit` by ids, for the inbox's side effects (inbox/events.py): the rows are
    read as they are now in this transaction, and only if some endpoint exists at all."""
    integrations.check_event(event)
    if not integrations.any_active_endpoint():
        return []
    conversation = (Conversation.objects.select_related("contact")
                    .filter(pk=conversation_id).first())
    if conversation is None:
        return []
    message = None
    if message_id is not None:
        message = Message.objects.filter(pk=message_id).first()
        if message is None:
            return []
    return webhooks_emit(event, conversation, message, data=data)
