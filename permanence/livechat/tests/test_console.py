"""The secretaries' console over HTTP: take a chat, answer it on screen (not by e-mail),
several chats up to the capacity, transfer, end (the conversation is resolved), and visitor
text shown inert."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from permanence.inbox.models import Delivery, Direction, Status
from permanence.livechat import services
from permanence.livechat.models import ChatSession, ChatStatus

from .conftest import ORIGIN, start_chat

pytestmark = pytest.mark.django_db

XSS = '<img src=x onerror="alert(1)"><script>alert(2)</script>'


def waiting_chat(name: str = "Jeanne Visiteur", body: str = "Un conseiller svp") -> ChatSession:
    client = Client()
    token = start_chat(client, name=name).json()["token"]
    response = client.post(f"/chat/api/{token}/messages",
                           json.dumps({"client_id": "w1", "body": body}),
                           content_type="application/json", HTTP_ORIGIN=ORIGIN)
    assert response.status_code == 201
    session = ChatSession.objects.select_related("conversation").latest("pk")
    assert session.status == ChatStatus.WAITING
    return session


def logged(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_accept_reply_and_end(chat_account: Any, seated: Any,
                              django_capture_on_commit_callbacks: Any) -> None:
    session = waiting_chat()
    agent = logged(seated)
    page = agent.get("/app/chats/")
    assert page.status_code == 200 and b"Jeanne Visiteur" in page.content
    assert agent.post(f"/app/chats/{session.pk}/prendre/").status_code == 302
    session.refresh_from_db()
    assert session.status == ChatStatus.ACTIVE and session.agent == seated
    assert session.conversation.assignee == seated
    with django_capture_on_commit_callbacks(execute=True):
        response = agent.post(f"/app/chats/{session.pk}/repondre/",
                              {"body": "Bonjour, je regarde."},
                              HTTP_ACCEPT="application/json")
    assert response.status_code == 200, response.content
    reply = session.conversation.messages.get(pk=response.json()["id"])
    # Carried by the chat (on screen), not e-mailed, and counted as sent.
    assert reply.data["via"] == "chat"
    reply.refresh_from_db()
    assert reply.delivery_status == Delivery.SENT
    with django_capture_on_commit_callbacks(execute=True):
        assert agent.post(f"/app/chats/{session.pk}/terminer/").status_code == 302
    session.refresh_from_db()
    session.conversation.refresh_from_db()
    assert session.status == ChatStatus.ENDED
    assert session.conversation.status == Status.RESOLVED


def test_capacity_limits_the_chats_of_a_secretary(chat_account: Any, seated: Any) -> None:
    chats = [waiting_chat(name=f"Visiteur {i}") for i in range(3)]
    agent = logged(seated)
    for chat in chats[:2]:
        agent.post(f"/app/chats/{chat.pk}/prendre/")
    refused = agent.post(f"/app/chats/{chats[2].pk}/prendre/", HTTP_ACCEPT="application/json")
    assert refused.status_code == 409 and refused.json()["code"] == "at_capacity"
    assert ChatSession.objects.filter(agent=seated, status=ChatStatus.ACTIVE).count() == 2


def test_transfer_to_a_colleague_and_back_to_the_queue(chat_account: Any, seated: Any,
                                                       make_user: Any) -> None:
    colleague = make_user("claire@test.fr", "agent", full_name="Claire Martin")
    chat_account.assigned_agents.add(colleague)
    services.seat_beat(user=colleague)
    session = waiting_chat()
    agent = logged(seated)
    agent.post(f"/app/chats/{session.pk}/prendre/")
    agent.post(f"/app/chats/{session.pk}/transferer/", {"to": colleague.pk})
    session.refresh_from_db()
    assert session.agent == colleague and session.status == ChatStatus.ACTIVE
    # The previous secretary may no longer act on it.
    refused = agent.post(f"/app/chats/{session.pk}/repondre/", {"body": "x"},
                         HTTP_ACCEPT="application/json")
    assert refused.status_code == 403
    logged(colleague).post(f"/app/chats/{session.pk}/transferer/", {"to": ""})
    session.refresh_from_db()
    assert session.status == ChatStatus.WAITING and session.agent is None


def test_visitor_text_is_inert_in_the_console(chat_account: Any, seated: Any) -> None:
    session = waiting_chat(name=XSS, body=XSS)
    page = logged(seated).get(f"/app/chats/?chat={session.pk}").content.decode()
    assert "<script>alert(2)</script>" not in page
    assert 'onerror="alert(1)"' not in page
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in page


def test_outsiders_cannot_see_or_take_a_chat(chat_account: Any, seated: Any,
                                             other_agent: Any, client_user: Any) -> None:
    session = waiting_chat()
    other = logged(other_agent)
    assert other.get(f"/app/chats/?chat={session.pk}").status_code == 404
    assert other.post(f"/app/chats/{session.pk}/prendre/").status_code == 404
    assert b"Jeanne Visiteur" not in other.get("/app/chats/").content
    assert logged(client_user).get("/app/chats/").status_code in (302, 403)
    session.refresh_from_db()
    assert session.status == ChatStatus.WAITING
    assert not session.conversation.messages.filter(direction=Direction.OUT).exists()


def test_a_supervisor_configures_the_widget(account: Any, supervisor: Any, agent: Any) -> None:
    from permanence.livechat.models import ChatSettings

    url = f"/app/chats/reglages/{account.pk}/"
    boss = logged(supervisor)
    page = boss.get(url)
    assert page.status_code == 200 and b"/chat/cabinet-martin/widget.js" in page.content
    bad = boss.post(url, {"enabled": "on", "allowed_origins": "javascript:alert(1)",
                          "capacity_per_agent": "3"})
    assert bad.status_code == 200 and not ChatSettings.objects.exists()
    boss.post(url, {"enabled": "on", "allowed_origins": "https://www.cabinet-martin.fr/\n",
                    "capacity_per_agent": "4"})
    saved = ChatSettings.objects.get(account=account)
    assert saved.enabled and saved.origins() == ["https://www.cabinet-martin.fr"]
    assert saved.capacity_per_agent == 4
    assert logged(agent).get(url).status_code == 403


def test_a_chat_left_waiting_with_nobody_becomes_an_offline_conversation(
        chat_account: Any, seated: Any, django_capture_on_commit_callbacks: Any) -> None:
    from datetime import timedelta

    from django.core import mail

    from permanence.core import clock
    from permanence.livechat.models import AgentSeat

    session = waiting_chat()
    assert services.waiting_expire() == 0  # still someone on the console, not waited long
    AgentSeat.objects.all().delete()  # the secretary left the console
    with clock.frozen(clock.now() + timedelta(minutes=6)), \
            django_capture_on_commit_callbacks(execute=True):
        assert services.waiting_expire() == 1
    session.refresh_from_db()
    assert session.status == ChatStatus.OFFLINE
    assert any("Accusé de réception" in m.subject for m in mail.outbox)


def test_the_chat_is_on_the_inbox_timeline_inert(chat_account: Any, seated: Any) -> None:
    session = waiting_chat(body=XSS)
    page = logged(seated).get(f"/app/boite/{session.conversation.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "<script>alert(2)</script>" not in html
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html
    assert "Je vous mets en relation avec un conseiller" in html  # the chat's notice


def test_the_waiting_sweep_is_a_periodic_job() -> None:
    from permanence.core.scheduler import REGISTRY

    assert "livechat.waiting_sweep" in REGISTRY
