"""The chat's websockets over the whole ASGI stack (`permanence.asgi.application`): the
visitor's from a client site (origin checked per account), the console's with a staff
session. Persisted before acknowledged or broadcast; reconnection resumes after the last
id seen, without loss or duplicate."""

from __future__ import annotations

import json
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.test import Client

from permanence.inbox.models import Message
from permanence.livechat import services
from permanence.livechat.models import ChatSession, ChatStatus

from .conftest import ORIGIN, Socket, session_cookie, start_chat

pytestmark = pytest.mark.django_db(transaction=True)


def _token() -> str:
    return str(start_chat(Client()).json()["token"])


def _path(token: str) -> str:
    return f"/ws/chat/visitor/{token}/"


def _is_message(frame: Any, who: str | None = None) -> bool:
    return frame["type"] == "message" and (who is None or frame["message"]["who"] == who)


def test_origin_not_allowed_or_unknown_token_is_refused(chat_account: Any) -> None:
    token = _token()

    async def scenario() -> list[Any]:
        results = []
        for path, origin in ((_path(token), "https://evil.example"), (_path(token), ""),
                             (_path("inconnu"), ORIGIN), (_path(token), ORIGIN)):
            socket = Socket(path, origin=origin)
            results.append(await socket.connect())
            await socket.disconnect()
        return results

    assert async_to_sync(scenario)() == [(False, 4403), (False, 4403), (False, 4403),
                                         (True, None)]


def test_agent_socket_needs_a_staff_session(chat_account: Any, agent: Any,
                                            client_user: Any) -> None:
    async def scenario(cookie: bytes | None) -> Any:
        socket = Socket("/ws/chat/agent/", origin="http://localhost", cookie=cookie)
        result = await socket.connect()
        await socket.disconnect()
        return result

    assert async_to_sync(scenario)(None) == (False, 4403)
    assert async_to_sync(scenario)(session_cookie(client_user)) == (False, 4403)
    assert async_to_sync(scenario)(session_cookie(agent)) == (True, None)


def test_a_message_is_persisted_before_it_is_acknowledged_and_broadcast(
        chat_account: Any, seated: Any) -> None:
    token = _token()
    cookie = session_cookie(seated)
    chat_id = ChatSession.objects.get().pk

    async def scenario() -> tuple[Any, Any, Any, list[Any]]:
        visitor = Socket(_path(token))
        assert (await visitor.connect())[0]
        assert (await visitor.receive_json())["type"] == "hello"
        agent = Socket("/ws/chat/agent/", origin="http://localhost", cookie=cookie)
        assert (await agent.connect())[0]
        await agent.until(lambda f: f["type"] == "hello")
        await agent.send_json({"type": "watch", "chat": chat_id, "after": 0})
        await visitor.send_json({"type": "message", "client_id": "m1",
                                 "body": "Quels sont vos horaires d'ouverture ?"})
        ack = await visitor.until(lambda f: f["type"] == "ack")
        in_db_at_ack = await _exists(ack["id"])
        seen_by_agent = await agent.until(lambda f: _is_message(f, "visitor"))
        in_db_at_broadcast = await _exists(seen_by_agent["message"]["id"])
        bot = await visitor.until(lambda f: _is_message(f, "bot"))
        # The same message sent again (its acknowledgement lost): the same id, no copy.
        await visitor.send_json({"type": "message", "client_id": "m1",
                                 "body": "Quels sont vos horaires d'ouverture ?"})
        again = await visitor.until(lambda f: f["type"] == "ack")
        rest = await visitor.drain()
        await visitor.disconnect()
        await agent.disconnect()
        return (ack, in_db_at_ack and in_db_at_broadcast, (bot, again), rest)

    ack, persisted, (bot, again), rest = async_to_sync(scenario)()
    assert persisted
    assert again["id"] == ack["id"]
    assert bot["message"]["exchange"]
    assert not [f for f in rest if _is_message(f)]  # nothing sent twice
    assert Message.objects.filter(message_id=f"chat:{ChatSession.objects.get().pk}:m1"
                                  ).count() == 1


def test_a_console_watching_a_chat_before_its_first_message_sees_that_message(
        chat_account: Any, seated: Any) -> None:
    """The race: the console watched the chat while it had no conversation yet (nothing to
    join but the chat's group); the visitor's first message then opens the conversation, and
    the console must still get it, and what follows."""
    token = _token()
    cookie = session_cookie(seated)
    chat_id = ChatSession.objects.get().pk

    async def scenario() -> tuple[Any, Any, Any]:
        visitor = Socket(_path(token))
        assert (await visitor.connect())[0]
        assert (await visitor.receive_json())["type"] == "hello"
        agent = Socket("/ws/chat/agent/", origin="http://localhost", cookie=cookie)
        assert (await agent.connect())[0]
        await agent.until(lambda f: f["type"] == "hello")
        await agent.send_json({"type": "watch", "chat": chat_id, "after": 0})
        # A socket handles its frames in order: the pong says the watch was done, before
        # the chat had a conversation.
        await agent.send_json({"type": "beat"})
        await agent.until(lambda f: f["type"] == "pong")
        await visitor.send_json({"type": "message", "client_id": "w1",
                                 "body": "Quels sont vos horaires d'ouverture ?"})
        ack = await visitor.until(lambda f: f["type"] == "ack")
        first = await agent.until(lambda f: _is_message(f, "visitor"))
        bot = await agent.until(lambda f: _is_message(f, "bot"))
        await visitor.disconnect()
        await agent.disconnect()
        return ack, first, bot

    ack, first, bot = async_to_sync(scenario)()
    assert first["chat"] == chat_id and first["message"]["id"] == ack["id"]
    assert first["message"]["text"] == "Quels sont vos horaires d'ouverture ?"
    assert bot["message"]["id"] > ack["id"]


async def _exists(message_id: int) -> bool:
    from channels.db import database_sync_to_async

    return bool(await database_sync_to_async(
        Message.objects.filter(pk=message_id).exists)())


def test_reconnection_resumes_after_the_last_message_seen(chat_account: Any,
                                                          seated: Any) -> None:
    token = _token()
    session = ChatSession.objects.get()

    async def first_visit() -> list[int]:
        visitor = Socket(_path(token))
        await visitor.connect()
        await visitor.send_json({"type": "message", "client_id": "r1",
                                 "body": "Je veux parler à un conseiller"})
        await visitor.until(lambda f: f["type"] == "status" and f["status"] == "attente")
        frames = await visitor.drain()
        await visitor.disconnect()
        return frames

    async_to_sync(first_visit)()
    seen = list(Message.objects.filter(conversation__chat=session).order_by("pk")
                .values_list("pk", flat=True))
    # Meanwhile (visitor away): a secretary takes the chat and answers twice.
    services.chat_accept(actor=seated, session=session)
    services.chat_reply(actor=seated, session=session, body="Bonjour, je suis Agent.")
    services.chat_reply(actor=seated, session=session, body="Êtes-vous toujours là ?")
    last_seen = max(seen)

    async def back() -> list[Any]:
        visitor = Socket(_path(token), query=f"after={last_seen}".encode())
        await visitor.connect()
        frames = await visitor.drain()
        await visitor.disconnect()
        return frames

    frames = async_to_sync(back)()
    ids = [f["message"]["id"] for f in frames if _is_message(f)]
    expected = list(Message.objects.filter(conversation__chat=session, pk__gt=last_seen)
                    .exclude(direction="system", event__in=("status", "assigned"))
                    .order_by("pk").values_list("pk", flat=True))
    assert ids == expected and len(ids) == len(set(ids))
    agents = [f["message"]["text"] for f in frames if _is_message(f, "agent")]
    assert [t.splitlines()[0] for t in agents] == ["Bonjour, je suis Agent.",
                                                   "Êtes-vous toujours là ?"]


def test_agent_reply_and_typing_reach_the_visitor_live(chat_account: Any, seated: Any) -> None:
    token = _token()
    session = ChatSession.objects.get()
    cookie = session_cookie(seated)
    client = Client()
    client.force_login(seated)

    async def scenario() -> tuple[Any, Any]:
        visitor = Socket(_path(token))
        await visitor.connect()
        await visitor.send_json({"type": "message", "client_id": "a1",
                                 "body": "Un humain svp"})
        await visitor.until(lambda f: f["type"] == "status" and f["status"] == "attente")
        agent = Socket("/ws/chat/agent/", origin="http://localhost", cookie=cookie)
        await agent.connect()
        await agent.send_json({"type": "watch", "chat": session.pk, "after": 0})
        # The console shows the chat's messages once it watches it; then the secretary types
        # (on a loaded machine the watch's reads can take longer than a frame's timeout).
        await agent.until(lambda f: f["type"] == "message")
        await agent.send_json({"type": "typing", "chat": session.pk, "typing": True})
        typing = await visitor.until(lambda f: f["type"] == "typing")
        from channels.db import database_sync_to_async

        await database_sync_to_async(client.post)(f"/app/chats/{session.pk}/prendre/")
        await database_sync_to_async(client.post)(f"/app/chats/{session.pk}/repondre/",
                                                  {"body": "Je vous écoute."})
        reply = await visitor.until(lambda f: _is_message(f, "agent"))
        await visitor.disconnect()
        await agent.disconnect()
        return typing, reply

    typing, reply = async_to_sync(scenario)()
    assert typing["typing"] is True
    # The polling fallback says so too (for a few seconds).
    polled = Client().get(f"/chat/api/{token}/messages", HTTP_ORIGIN=ORIGIN).json()
    assert polled["typing"] is True
    assert reply["message"]["text"].startswith("Je vous écoute.")
    assert ChatSession.objects.get().status == ChatStatus.ACTIVE


def test_bad_frames_get_an_error_not_a_crash(chat_account: Any) -> None:
    token = _token()

    async def scenario() -> list[Any]:
        visitor = Socket(_path(token))
        await visitor.connect()
        await visitor.receive_json()  # hello
        out = []
        for text in ("pas du json", "[1,2]", json.dumps({"type": 5}),
                     json.dumps({"type": "message", "client_id": 10**40, "body": "x"}),
                     json.dumps({"type": "feedback", "exchange": 10**40, "helped": True}),
                     json.dumps({"type": "inconnu"})):
            await visitor.send_text(text)
            out.append(await visitor.receive_json())
        await visitor.send_json({"type": "ping"})
        out.append(await visitor.receive_json())
        await visitor.disconnect()
        return out

    frames = async_to_sync(scenario)()
    assert [f["type"] for f in frames] == ["error"] * 6 + ["pong"]
    assert not Message.objects.exists()
