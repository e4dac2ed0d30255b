"""Webhook payloads are a contract: now built by the inbox (inbox/payloads.py) from its own
rows, they must stay field for field what integrations built before from the API schemas
(`_jsonable(ConversationOut.from_orm(c).model_dump())`, the same for MessageOut)."""

from __future__ import annotations

import ast
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from permanence.core import clock
from permanence.inbox import attachments, payloads
from permanence.inbox import services as inbox
from permanence.inbox.models import Conversation, Message
from permanence.integrations import services
from permanence.integrations.models import WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db

# Microseconds on purpose: the API (and so the payload) writes milliseconds.
T0 = datetime(2026, 3, 2, 9, 15, 30, 123456, tzinfo=UTC)


def old_conversation_payload(conversation: Conversation) -> dict[str, Any]:
    """What integrations.services.conversation_payload returned before the move."""
    from permanence.inbox.api import ConversationOut

    return services._jsonable(ConversationOut.from_orm(conversation).model_dump())


def old_message_payload(message: Message) -> dict[str, Any]:
    from permanence.inbox.api import MessageOut

    return services._jsonable(MessageOut.from_orm(message).model_dump())


def reload(conversation: Conversation) -> Conversation:
    """As the old after-commit emission read it."""
    return (Conversation.objects.select_related("contact").prefetch_related("tags")
            .get(pk=conversation.pk))


def assert_same(new: dict[str, Any], old: dict[str, Any]) -> None:
    assert list(new) == list(old)  # same fields, same order
    for key, value in old.items():
        assert new[key] == value, key
        assert type(new[key]) is type(value), key
    assert json.dumps(new) == json.dumps(old)


@pytest.fixture
def rich(account: Any, agent: Any) -> tuple[Conversation, list[Message]]:
    """A conversation with everything a payload shows: contact, tags, assignee, due dates,
    an inbound message with attachments, a reply (to be delivered) and an internal note."""
    with clock.frozen(T0):
        conversation = inbox.conversation_open(inbox.Incoming(
            account=account, channel="email", subject="Rendez-vous « urgent »",
            body_text="Bonjour,\nrappelez-moi.", contact_name="Jeanne Dupont",
            contact_email="jeanne@exemple.fr", contact_phone="+33612345678",
            priority="haute", category="", acknowledge=False))
        first = conversation.messages.get()
        attachments.store(first, SimpleUploadedFile("plan.pdf", b"%PDF-1.4",
                                                    content_type="application/pdf"))
        attachments.store(first, SimpleUploadedFile("note.txt", b"Bonjour",
                                                    content_type="text/plain"))
    with clock.frozen(T0 + timedelta(minutes=3, microseconds=654321)):
        inbox.conversation_update(actor=agent, conversation=conversation, data={},
                                  tags=["VIP", "rappel"])
        reply = inbox.conversation_reply(actor=agent, conversation=conversation,
                                         body="C'est noté.")
        note = inbox.conversation_add_note(actor=agent, conversation=conversation,
                                           body="Interne @agent")
    Conversation.objects.filter(pk=conversation.pk).update(
        first_response_due_at=T0 + timedelta(hours=4),
        next_response_due_at=T0 + timedelta(hours=5, microseconds=999),
        resolution_due_at=T0 + timedelta(days=2, microseconds=1000))
    return reload(conversation), [first, reply, note]


def test_conversation_payload_is_unchanged(rich: Any) -> None:
    conversation, _messages = rich
    old = old_conversation_payload(conversation)
    assert old["tags"] == ["rappel", "vip"] and old["assignee"] is not None  # really rich
    assert old["contact"]["phone"] and old["first_response_due_at"]
    assert_same(payloads.conversation_payload(conversation), old)
    # The same object read differently (no prefetch), and as a service returns it.
    assert_same(payloads.conversation_payload(Conversation.objects.get(pk=conversation.pk)),
                old)


def test_conversation_payload_without_contact_tags_or_deadlines(account: Any) -> None:
    conversation = inbox.conversation_open(inbox.Incoming(
        account=account, channel="formulaire", subject="Sans contact", body_text="?",
        acknowledge=False))
    Conversation.objects.filter(pk=conversation.pk).update(
        first_response_due_at=None, next_response_due_at=None, resolution_due_at=None)
    conversation = reload(conversation)
    old = old_conversation_payload(conversation)
    assert old["contact"] is None and old["tags"] == [] and old["resolution_due_at"] is None
    assert_same(payloads.conversation_payload(conversation), old)


def test_message_payloads_are_unchanged(rich: Any) -> None:
    _conversation, messages = rich
    directions = []
    for written in messages:
        message = Message.objects.prefetch_related("attachments").get(pk=written.pk)
        old = old_message_payload(message)
        assert_same(payloads.message_payload(message), old)
        assert_same(payloads.message_payload(Message.objects.get(pk=message.pk)), old)
        directions.append((old["direction"], len(old["attachments"]), old["delivery_status"]))
    assert directions == [("in", 2, ""), ("out", 0, "pending"), ("note", 0, "")]


def test_dates_are_written_as_the_api_writes_them(rich: Any) -> None:
    conversation, messages = rich
    payload = payloads.conversation_payload(conversation)
    assert payload["created_at"] == "2026-03-02T09:15:30.123Z"
    assert payload["updated_at"] == "2026-03-02T09:18:30.777Z"
    assert payloads.message_payload(messages[0])["created_at"] == "2026-03-02T09:15:30.123Z"


def test_the_delivered_body_is_unchanged(rich: Any, receiver: Any,
                                         django_capture_on_commit_callbacks: Any) -> None:
    """The whole body as stored and sent: envelope, conversation, message, data."""
    conversation, messages = rich
    reply = Message.objects.prefetch_related("attachments").get(pk=messages[1].pk)
    WebhookEndpoint.objects.create(account=conversation.account, url=receiver.url(),
                                   allow_private=True, events=["message.created"])
    data = {"changes": {"tags": {"b", "a"}}, "at": T0}
    at = T0 + timedelta(hours=1)
    with clock.frozen(at), django_capture_on_commit_callbacks(execute=True):
        [delivery] = payloads.webhooks_emit_for("message.created", conversation.pk,
                                                reply.pk, data=data)
    expected = {"id": str(delivery.event_id), "event": "message.created",
                "created_at": at.isoformat(),
                "conversation": old_conversation_payload(conversation),
                "message": old_message_payload(reply),
                "data": services._jsonable(data)}
    assert expected["data"] == {"changes": {"tags": ["a", "b"]},
                                "at": "2026-03-02T09:15:30.123Z"}
    delivery.refresh_from_db()
    assert delivery.payload == expected
    [received] = receiver.requests
    assert json.loads(received.body) == expected


def test_events_without_message_or_data_have_neither(rich: Any, receiver: Any) -> None:
    conversation, _messages = rich
    WebhookEndpoint.objects.create(account=None, url=receiver.url(), allow_private=True,
                                   events=["conversation.updated"])
    [delivery] = payloads.webhooks_emit("conversation.updated", conversation)
    assert set(delivery.payload) == {"id", "event", "created_at", "conversation"}
    assert delivery.payload["conversation"] == old_conversation_payload(conversation)


def test_integrations_imports_no_inbox_module() -> None:
    """The inbox hands its payloads over: integrations does not know the inbox, not even
    inside a function (no cycle inbox ↔ integrations)."""
    root = Path(services.__file__).parent
    offenders = []
    for path in sorted(root.rglob("*.py")):
        if "tests" in path.relative_to(root).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names: list[str] = []
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            if any(n.startswith("permanence.inbox") for n in names):
                offenders.append(f"{path.name}:{node.lineno}")
    assert offenders == []


@pytest.mark.django_db(transaction=True)
def test_emission_is_free_without_any_endpoint(account: Any) -> None:
    """Writing the outbox in the business transaction costs nothing when no endpoint
    exists: the per-process presence cache answers, no query, no payload built."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    conversation = inbox.conversation_open(inbox.Incoming(
        account=account, channel="email", subject="Question", body_text="?",
        contact_email="jeanne@exemple.fr", acknowledge=False))
    message = conversation.messages.get()
    assert services.any_active_endpoint() is False  # warm
    with CaptureQueriesContext(connection) as ctx:
        for _n in range(5):
            assert payloads.webhooks_emit_for("message.created", conversation.pk,
                                              message.pk) == []
            assert payloads.webhooks_emit("conversation.updated", conversation) == []
    assert ctx.captured_queries == []
    assert not WebhookDelivery.objects.exists()
