"""The inbox list's one-line preview and "Reçu / dernière activité" column (stored on the
conversation by the services, never read from the messages), and the unread count on the
menu item and in the tab title (one capped query, the same whatever the inbox's size)."""

from __future__ import annotations

import importlib
import re
from typing import Any

import pytest
from django.apps import apps
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from permanence.inbox import services
from permanence.inbox.models import Channel, Conversation, Message, preview_of
from permanence.inbox.selectors import UNREAD_CAP, unread_label
from permanence.inbox.services import Incoming

pytestmark = pytest.mark.django_db

LONG = "Bonjour <b>madame</b>,\n\n  je voudrais   un rendez-vous " + "très " * 60 + "fin"


def _open(account: Any, body: str = "Bonjour", subject: str = "Demande") -> Conversation:
    return services.conversation_open(Incoming(
        account=account, channel=Channel.EMAIL, subject=subject, body_text=body,
        contact_email="jean@exemple.fr", contact_name="Jean", acknowledge=False))


def _login(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_preview_is_one_line_of_at_most_120_characters() -> None:
    assert preview_of("  Bonjour,\n\n  à  demain ") == "Bonjour, à demain"
    cut = preview_of(LONG)
    assert len(cut) == 120 and cut.endswith("…") and "\n" not in cut
    assert cut.startswith("Bonjour <b>madame</b>, je voudrais un rendez-vous très")


def test_services_store_the_last_message_preview(account: Any, agent: Any) -> None:
    conversation = _open(account, LONG)
    conversation.refresh_from_db()
    assert conversation.preview == preview_of(LONG)
    services.message_add_inbound(conversation, Incoming(
        account=account, channel=Channel.EMAIL, subject="Re", body_text="Et jeudi ?\nMerci",
        contact_email="jean@exemple.fr"))
    conversation.refresh_from_db()
    assert conversation.preview == "Et jeudi ? Merci"
    services.conversation_reply(actor=agent, conversation=conversation,
                                body="Jeudi 10 h, c'est noté.")
    conversation.refresh_from_db()
    assert conversation.preview == "Jeudi 10 h, c'est noté."


def test_the_list_shows_the_preview_escaped_and_received_last_activity(account: Any,
                                                                        agent: Any) -> None:
    _open(account, LONG, subject="Rendez-vous")
    body = _login(agent).get("/app/boite/").content.decode()
    assert "Reçu / dernière activité" in body
    assert "Bonjour &lt;b&gt;madame&lt;/b&gt;, je voudrais un rendez-vous" in body
    assert "<b>madame</b>" not in body
    assert re.search(r'<td class="when"><time datetime="[^"]+"', body)


def test_unread_count_on_the_menu_and_in_the_title(account: Any, agent: Any) -> None:
    first, _second = _open(account, subject="Un"), _open(account, subject="Deux")
    client = _login(agent)
    body = client.get("/app/").content.decode()
    assert re.search(r"<title>\(2\) ", body)
    assert re.search(r'id="inbox-unread"[^>]*>2</span>', body)
    body = client.get("/app/boite/").content.decode()
    assert re.search(r"<title>\(2\) Boîte de réception", body)
    client.get(f"/app/boite/{first.pk}/")  # opening it marks it read
    assert client.get("/app/boite/non-lus/").json() == {"count": 1, "label": "1"}
    body = client.get("/app/boite/").content.decode()
    assert re.search(r"<title>\(1\) Boîte de réception", body)


def test_no_unread_no_badge_and_a_plain_title(account: Any, agent: Any,
                                              other_account: Any) -> None:
    _open(other_account)  # not the agent's account: not counted
    client = _login(agent)
    body = client.get("/app/boite/").content.decode()
    assert re.search(r"<title>Boîte de réception", body)
    assert re.search(r'id="inbox-unread"[^>]*hidden', body)
    assert client.get("/app/boite/non-lus/").json() == {"count": 0, "label": "0"}


def test_the_unread_count_is_capped() -> None:
    assert unread_label(3) == "3"
    assert unread_label(UNREAD_CAP + 1) == f"{UNREAD_CAP}+"


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_list_and_unread_count_cost_the_same_queries_at_3_or_30_conversations(
        account: Any, agent: Any) -> None:
    client = _login(agent)
    for i in range(3):
        _open(account, f"Message {i}\nsur deux lignes")
    client.get("/app/boite/")  # warm-up
    small = (_queries(client, "/app/boite/?sort=recent"), _queries(client, "/app/boite/non-lus/"))
    for i in range(27):
        _open(account, f"Autre message {i}")
    large = (_queries(client, "/app/boite/?sort=recent"), _queries(client, "/app/boite/non-lus/"))
    assert small == large
    assert Message.objects.count() >= 30


def test_the_migration_backfills_the_preview_from_the_last_message(account: Any) -> None:
    conversation = _open(account, "Premier message")
    services.message_add_inbound(conversation, Incoming(
        account=account, channel=Channel.EMAIL, subject="Re", body_text="Dernier\nmessage",
        contact_email="jean@exemple.fr"))
    empty = _open(account, "")
    Conversation.objects.update(preview="")
    migration = importlib.import_module("permanence.inbox.migrations.0012_conversation_preview")
    migration.backfill(apps, None)
    assert Conversation.objects.get(pk=conversation.pk).preview == "Dernier message"
    assert Conversation.objects.get(pk=empty.pk).preview == ""
