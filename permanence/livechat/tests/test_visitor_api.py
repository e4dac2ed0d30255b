"""The visitor's HTTP side (widget, start, polling fallback, actions, attachments) and what
it leaves on the inbox conversation: origins, bad input, the bot, hand-over, offline."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from permanence.core import clock
from permanence.inbox.models import Channel, Conversation, Direction, Message
from permanence.livechat.models import BotExchange, ChatSession, ChatStatus
from testkit import files

from .conftest import ORIGIN, start_chat

pytestmark = pytest.mark.django_db


def _post(client: Client, url: str, data: Any, origin: str = ORIGIN) -> Any:
    return client.post(url, json.dumps(data) if not isinstance(data, bytes) else data,
                       content_type="application/json", HTTP_ORIGIN=origin)


def _started(client: Client) -> str:
    response = start_chat(client)
    assert response.status_code == 201, response.content
    return str(response.json()["token"])


def _send(client: Client, token: str, body: str, client_id: str) -> Any:
    return _post(client, f"/chat/api/{token}/messages", {"client_id": client_id, "body": body})


def _messages(client: Client, token: str, after: int = 0) -> list[dict[str, Any]]:
    response = client.get(f"/chat/api/{token}/messages?after={after}", HTTP_ORIGIN=ORIGIN)
    assert response.status_code == 200, response.content
    return list(response.json()["messages"])


def test_widget_script_is_served_for_an_enabled_chat_only(chat_account: Any) -> None:
    client = Client()
    response = client.get("/chat/cabinet-martin/widget.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    script = response.content.decode()
    assert '"slug": "cabinet-martin"' in script
    # Inert: the widget never parses text as HTML.
    assert "innerHTML" not in script and "insertAdjacentHTML" not in script
    assert client.get("/chat/inconnu/widget.js").status_code == 404


def test_origins_not_allowed_are_refused_without_cors(chat_account: Any) -> None:
    client = Client()
    refused = start_chat(client, origin="https://evil.example")
    assert refused.status_code == 403
    assert "Access-Control-Allow-Origin" not in refused
    assert not ChatSession.objects.exists()
    preflight = client.options("/chat/cabinet-martin/start", HTTP_ORIGIN=ORIGIN)
    assert preflight.status_code == 204
    assert preflight["Access-Control-Allow-Origin"] == ORIGIN
    token = _started(client)
    stolen = client.get(f"/chat/api/{token}/messages", HTTP_ORIGIN="https://evil.example")
    assert stolen.status_code == 403


@pytest.mark.parametrize("payload", [
    {"name": "A", "email": "a@exemple.fr", "consent": "oui"},
    {"name": 12, "email": "a@exemple.fr", "consent": True},
    {"name": "A", "email": "pas-une-adresse", "consent": True},
    {"name": "A", "email": ["a@exemple.fr"], "consent": True},
    {"name": "A" * 500, "email": "a@exemple.fr", "consent": True},
])
def test_start_with_bad_input_is_a_json_4xx(chat_account: Any, payload: Any) -> None:
    response = _post(Client(), "/chat/cabinet-martin/start", payload)
    assert response.status_code == 422
    assert response.json()["code"] == "invalid"
    assert not ChatSession.objects.exists()


@pytest.mark.parametrize("raw", [b"[1, 2]", b"{not json", b"12", b"\xff\xfe"])
def test_start_with_a_body_that_is_not_an_object_is_a_400(chat_account: Any, raw: bytes) -> None:
    assert _post(Client(), "/chat/cabinet-martin/start", raw).status_code == 400


def test_messages_bad_input_is_a_json_4xx(chat_account: Any) -> None:
    client = Client()
    token = _started(client)
    for after in ("-1", "abc", "99999999999999999999999", "9223372036854775808"):
        response = client.get(f"/chat/api/{token}/messages?after={after}", HTTP_ORIGIN=ORIGIN)
        assert response.status_code == 422, after
    for bad in ({"client_id": 5, "body": "x"}, {"client_id": "a b", "body": "x"},
                {"client_id": "ok", "body": ["x"]}, {"client_id": "ok", "body": ""},
                {"client_id": "ok", "body": "x" * 5000}):
        assert _post(client, f"/chat/api/{token}/messages", bad).status_code == 422, bad
    for bad_feedback in ({"type": "feedback", "exchange": 10**30, "helped": False},
                         {"type": "feedback", "exchange": "1", "helped": False},
                         {"type": "feedback", "exchange": 1, "helped": "non"},
                         {"type": "nope"}):
        assert _post(client, f"/chat/api/{token}/actions", bad_feedback).status_code == 422
    assert client.get("/chat/api/inconnu/messages", HTTP_ORIGIN=ORIGIN).status_code == 404
    assert not Message.objects.exists()


def test_a_message_is_persisted_on_a_chat_conversation_once(chat_account: Any,
                                                            seated: Any) -> None:
    client = Client()
    token = _started(client)
    first = _send(client, token, "Bonjour, vous êtes ouverts le samedi ?", "c1")
    assert first.status_code == 201
    again = _send(client, token, "Bonjour, vous êtes ouverts le samedi ?", "c1")
    assert again.status_code == 200 and again.json() == {"id": first.json()["id"],
                                                         "created": False}
    conversation = Conversation.objects.get()
    assert conversation.channel == Channel.CHAT
    assert conversation.contact.email == "jeanne@exemple.fr"
    inbound = conversation.messages.filter(direction=Direction.IN)
    assert [m.pk for m in inbound] == [first.json()["id"]]
    session = ChatSession.objects.get()
    assert session.conversation == conversation
    # The poll: the visitor's message, then the bot's answer (the article on opening hours).
    items = _messages(client, token)
    assert items[0]["who"] == "visitor" and items[0]["client_id"] == "c1"
    assert items[1]["who"] == "bot" and "ouvert" in items[1]["text"]
    assert _messages(client, token, after=items[-1]["id"]) == []


def test_a_chat_flooding_messages_is_stopped_but_a_resend_is_still_acknowledged(
        chat_account: Any, seated: Any, settings: Any) -> None:
    settings.CHAT_MESSAGE_RATE_LIMIT = 3
    client = Client()
    token = _started(client)
    start = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
    with clock.frozen(start):
        sent = [_send(client, token, f"Question {n}", f"f{n}") for n in range(3)]
        assert [r.status_code for r in sent] == [201, 201, 201]
        flood = _send(client, token, "Question 3", "f3")
        # A resend of one already stored is found, limit or not (its ack was lost).
        again = _send(client, token, "Question 1", "f1")
    assert flood.status_code == 429 and flood.json()["code"] == "rate_limited"
    assert again.status_code == 200 and again.json()["id"] == sent[1].json()["id"]
    with clock.frozen(start + timedelta(seconds=61)):  # the minute is over
        assert _send(client, token, "Question 3", "f3").status_code == 201
    inbound = Message.objects.filter(direction=Direction.IN).order_by("pk")
    assert [m.body_text for m in inbound] == [f"Question {n}" for n in range(4)]


def test_a_chat_the_bot_answered_is_resolved_when_the_visitor_leaves(
        chat_account: Any, seated: Any) -> None:
    from permanence.inbox.models import Status

    client = Client()
    token = _started(client)
    _send(client, token, "Quels sont vos horaires d'ouverture ?", "q1")
    exchange = BotExchange.objects.get()
    _post(client, f"/chat/api/{token}/actions",
          {"type": "feedback", "exchange": exchange.pk, "helped": True})
    assert _post(client, f"/chat/api/{token}/actions", {"type": "end"}).status_code == 200
    session = ChatSession.objects.get()
    assert session.status == ChatStatus.ENDED
    assert session.conversation.status == Status.RESOLVED  # nobody has anything left to do


def test_the_visitor_leaves_an_opinion_from_the_widget(chat_account: Any, seated: Any) -> None:
    from permanence.feedback.models import Feedback

    client = Client()
    token = _started(client)
    for bad in ({"type": "avis", "rating": "5"}, {"type": "avis", "rating": True},
                {"type": "avis", "rating": 9}, {"type": "avis", "rating": 10**30}):
        assert _post(client, f"/chat/api/{token}/actions", bad).status_code == 422, bad
    assert _post(client, f"/chat/api/{token}/actions",
                 {"type": "avis", "rating": 4, "comment": "Rapide"}).status_code == 200
    item = Feedback.objects.get()
    assert (item.source, item.rating, item.comment) == ("chat", 4, "Rapide")
    assert item.page == f"/chat/{chat_account.slug}/"


def test_two_unhelpful_answers_hand_over_to_a_secretary(chat_account: Any,
                                                         seated: Any) -> None:
    client = Client()
    token = _started(client)
    _send(client, token, "Quels sont vos horaires d'ouverture ?", "q1")
    _send(client, token, "Comment annuler un rendez-vous ?", "q2")
    exchanges = list(BotExchange.objects.order_by("pk"))
    assert len(exchanges) == 2 and all(e.article_id for e in exchanges)
    for exchange in exchanges:
        response = _post(client, f"/chat/api/{token}/actions",
                         {"type": "feedback", "exchange": exchange.pk, "helped": False})
        assert response.status_code == 200
    session = ChatSession.objects.get()
    assert session.status == ChatStatus.WAITING
    assert [e.helped for e in BotExchange.objects.order_by("pk")] == [False, False]
    texts = [m["text"] for m in _messages(client, token)]
    assert any("conseiller" in t for t in texts)


def test_asking_for_a_person_hands_over_at_once(chat_account: Any, seated: Any) -> None:
    client = Client()
    token = _started(client)
    _send(client, token, "Je voudrais parler à un conseiller", "p1")
    session = ChatSession.objects.get()
    assert session.status == ChatStatus.WAITING
    assert BotExchange.objects.get().handover is True


def test_no_secretary_online_makes_an_offline_conversation_with_acknowledgement(
        chat_account: Any, django_capture_on_commit_callbacks: Any) -> None:
    client = Client()
    token = _started(client)
    with django_capture_on_commit_callbacks(execute=True):
        _send(client, token, "Je voudrais parler à un humain", "o1")
    session = ChatSession.objects.select_related("conversation").get()
    assert session.status == ChatStatus.OFFLINE
    notice = _messages(client, token)[-1]
    assert session.conversation.reference in notice["text"]
    assert "au plus tard le" in notice["text"]
    acknowledgements = [m for m in mail.outbox if "Accusé de réception" in m.subject]
    assert len(acknowledgements) == 1 and "jeanne@exemple.fr" in acknowledgements[0].to[0]


def test_out_of_hours_makes_an_offline_conversation(
        account: Any, chat_account: Any, seated: Any,
        django_capture_on_commit_callbacks: Any) -> None:
    from permanence.calendars.models import BusinessCalendar

    account.calendar = BusinessCalendar.objects.create(name="Bureau", holidays="")
    account.save(update_fields=["calendar"])
    sunday_night = datetime(2026, 12, 6, 2, 0, tzinfo=UTC)
    client = Client()
    with clock.frozen(sunday_night):
        from permanence.livechat import services

        services.seat_beat(user=seated)
        token = _started(client)
        assert client.get(f"/chat/api/{token}/messages",
                          HTTP_ORIGIN=ORIGIN).json()["reason"] == "closed"
        with django_capture_on_commit_callbacks(execute=True):
            _send(client, token, "Un conseiller svp", "n1")
    assert ChatSession.objects.get().status == ChatStatus.OFFLINE
    assert any("Accusé de réception" in m.subject for m in mail.outbox)


def test_attachments_are_limited_in_size_and_type(chat_account: Any, seated: Any) -> None:
    client = Client()
    token = _started(client)
    url = f"/chat/api/{token}/attachments"
    pdf = SimpleUploadedFile("ordonnance.pdf", b"%PDF-1.4 test", "application/pdf")
    ok = client.post(url, {"file": pdf, "client_id": "f1"}, HTTP_ORIGIN=ORIGIN)
    assert ok.status_code == 201, ok.content
    html = SimpleUploadedFile("page.html", b"<html><script>x</script></html>", "text/html")
    assert client.post(url, {"file": html, "client_id": "f2"},
                       HTTP_ORIGIN=ORIGIN).status_code == 415
    big = SimpleUploadedFile("gros.pdf", b"%PDF-" + b"0" * (6 * 1024 * 1024))
    assert client.post(url, {"file": big, "client_id": "f3"},
                       HTTP_ORIGIN=ORIGIN).status_code == 413
    message = Message.objects.get(direction=Direction.IN)
    assert [a.filename for a in message.attachments.all()] == ["ordonnance.pdf"]


def test_refused_files_are_json_4xx_naming_the_field_and_store_nothing(
        chat_account: Any, seated: Any) -> None:
    client = Client()
    token = _started(client)
    url = f"/chat/api/{token}/attachments"
    cases = [
        (SimpleUploadedFile("ordonnance.pdf", files.HTML_PAGE), 415, "mismatch",
         "ne correspond pas à son extension (.pdf)"),
        (SimpleUploadedFile("photo.png", files.png(50_000, 50_000)), 422, "image_too_large",
         "(50000 × 50000 pixels)"),
        (SimpleUploadedFile("docs.zip", files.zip_bomb(3)), 415, "bad_type",
         "n'est pas d'un type accepté (PDF, image ou texte)"),
        (SimpleUploadedFile("setup.exe", files.windows_program()), 415, "dangerous",
         "les programmes et les scripts ne sont pas acceptés"),
    ]
    for number, (upload, status, code, error) in enumerate(cases):
        response = client.post(url, {"file": upload, "client_id": f"r{number}"},
                               HTTP_ORIGIN=ORIGIN)
        assert response.status_code == status, upload.name
        body = response.json()
        assert body["code"] == code
        [message] = body["errors"]["file"]
        assert f"« {upload.name} »" in message and error in message
    assert not Message.objects.filter(direction=Direction.IN).exists()


def test_transcript_by_email_is_plain_text(chat_account: Any, seated: Any,
                                           django_capture_on_commit_callbacks: Any) -> None:
    client = Client()
    token = _started(client)
    _send(client, token, "<b>gras</b> <script>alert(1)</script>", "t1")
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(client, f"/chat/api/{token}/actions", {"type": "transcript"})
    assert response.status_code == 200
    sent = [m for m in mail.outbox if "Votre conversation" in m.subject]
    assert len(sent) == 1
    assert not getattr(sent[0], "alternatives", [])  # no HTML part
    assert "<script>alert(1)</script>" in sent[0].body  # shown as typed, as text
