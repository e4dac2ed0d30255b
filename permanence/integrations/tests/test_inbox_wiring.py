"""The inbox's writes reach the webhook endpoints (wired in inbox/events.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from permanence.integrations.models import WebhookDelivery, WebhookEndpoint


@pytest.mark.django_db
def test_inbox_events_are_delivered_to_the_account_endpoint(
        account: Any, agent: Any, receiver: Any, django_capture_on_commit_callbacks: Any) -> None:
    from permanence.inbox.services import (
        Incoming,
        conversation_add_note,
        conversation_open,
        conversation_reply,
    )

    WebhookEndpoint.objects.create(
        account=account, url=receiver.url(), allow_private=True,
        events=["conversation.created", "message.created", "conversation.updated"])
    with django_capture_on_commit_callbacks(execute=True):
        conversation = conversation_open(Incoming(
            account=account, channel="formulaire", subject="Rendez-vous",
            body_text="Bonjour", contact_email="jean@exemple.fr", acknowledge=False))
    with django_capture_on_commit_callbacks(execute=True):
        conversation_reply(actor=agent, conversation=conversation, body="C'est noté.")
    with django_capture_on_commit_callbacks(execute=True):
        conversation_add_note(actor=agent, conversation=conversation, body="interne")

    events = list(WebhookDelivery.objects.order_by("id").values_list("event", flat=True))
    # Internal notes never go to an account's own endpoint (the client does not see them).
    assert events[0] == "conversation.created"
    assert "message.created" in events
    assert all(e in {"conversation.created", "message.created", "conversation.updated"}
               for e in events)
    received = [json.loads(r.body) for r in receiver.requests]
    assert received, "the receiver got nothing"
    assert received[0]["conversation"]["reference"] == conversation.reference
    assert all(r.headers.get("X-Permanence-Signature", "").startswith("sha256=")
               for r in receiver.requests)


@pytest.mark.django_db
def test_other_accounts_endpoint_gets_nothing(account: Any, other_account: Any, receiver: Any,
                                              django_capture_on_commit_callbacks: Any) -> None:
    from permanence.inbox.services import Incoming, conversation_open

    WebhookEndpoint.objects.create(account=other_account, url=receiver.url(), allow_private=True,
                                   events=["conversation.created"])
    with django_capture_on_commit_callbacks(execute=True):
        conversation_open(Incoming(account=account, channel="formulaire", subject="X",
                                   body_text="Y", acknowledge=False))
    assert WebhookDelivery.objects.count() == 0
    assert receiver.requests == []
