"""The inbox websockets over the whole ASGI stack (`permanence.asgi.application`: origin
check, session auth, routing, consumers): /ws/inbox/ and /ws/conversations/<id>/."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from asgiref.testing import ApplicationCommunicator
from django.conf import settings
from django.core.cache import cache
from django.test import Client

from permanence.inbox import live, services
from permanence.inbox.models import Channel, Conversation, Message
from permanence.inbox.services import Incoming

pytestmark = pytest.mark.django_db(transaction=True)


class Socket(ApplicationCommunicator):
    """A WebSocket client speaking ASGI to `permanence.asgi.application` (the helpers of
    channels' WebsocketCommunicator, whose module cannot be imported without daphne; as in
    core/tests/test_platform.py)."""

    def __init__(self, path: str, cookie: bytes | None = None):
        from permanence.asgi import application

        headers = [(b"host", b"localhost"), (b"origin", b"http://localhost")]
        if cookie is not None:
            headers.append((b"cookie", cookie))
        super().__init__(application, {
            "type": "websocket", "path": path, "query_string": b"", "subprotocols": [],
            "headers": headers,
        })

    async def connect(self) -> tuple[bool, Any]:
        await self.send_input({"type": "websocket.connect"})
        response = await self.receive_output(timeout=2)
        if response["type"] == "websocket.close":
            return False, response.get("code", 1000)
        assert response["type"] == "websocket.accept", response
        return True, None

    async def send_json(self, data: Any) -> None:
        await self.send_input({"type": "websocket.receive", "text": json.dumps(data)})

    async def receive_json(self) -> Any:
        response = await self.receive_output(timeout=2)
        assert response["type"] == "websocket.send", response
        return json.loads(response["text"])

    async def receive_until(self, kind: str) -> Any:
        """The next message of this type (skipping others, e.g. presence refreshes)."""
        for _ in range(10):
            message = await self.receive_json()
            if message["type"] == kind:
                return message
        raise AssertionError(f"no {kind} message")

    async def disconnect(self) -> None:
        await self.send_input({"type": "websocket.disconnect", "code": 1000})
        await self.wait(timeout=2)


def session_cookie(user: Any) -> bytes:
    """Logged in from the test's thread (not inside the event loop, whose thread would open
    a database connection of its own and keep it)."""
    client = Client()
    client.force_login(user)
    name = settings.SESSION_COOKIE_NAME
    return f"{name}={client.cookies[name].value}".encode()


def try_connect(path: str, user: Any = None) -> tuple[bool, Any]:
    cookie = session_cookie(user) if user is not None else None

    async def scenario() -> tuple[bool, Any]:
        socket = Socket(path, cookie)
        result = await socket.connect()
        await socket.disconnect()
        return result

    return async_to_sync(scenario)()


@pytest.fixture(autouse=True)
def _clear_presence() -> Iterator[None]:
    cache.clear()  # presence lists live in the cache, keyed by conversation id
    yield
    cache.clear()


@pytest.fixture
def colleague(make_user: Any, account: Any) -> Any:
    user = make_user("claire@test.fr", "agent", full_name="Claire Martin")
    account.assigned_agents.add(user)
    return user


def open_conv(account: Any, **extra: Any) -> Conversation:
    # No e-mail address: no acknowledgement, so the only live event is the creation.
    fields: dict[str, Any] = {"account": account, "channel": Channel.PHONE,
                              "subject": "Appel", "body_text": "Rappeler",
                              "contact_phone": "+33612345678"}
    fields.update(extra)
    return services.conversation_open(Incoming(**fields))


# --- /ws/inbox/ ----------------------------------------------------------------------------------


def test_inbox_socket_is_for_staff_only(agent: Any, billing: Any, supervisor: Any,
                                        client_user: Any) -> None:
    assert try_connect("/ws/inbox/") == (False, 4403)
    assert try_connect("/ws/inbox/", client_user) == (False, 4403)
    for user in (agent, billing, supervisor):
        assert try_connect("/ws/inbox/", user) == (True, None), user


def test_inbox_changed_reaches_only_those_who_may_see_it(account: Any, agent: Any,
                                                         other_agent: Any,
                                                         supervisor: Any) -> None:
    cookies = {"agent": session_cookie(agent), "other": session_cookie(other_agent),
               "supervisor": session_cookie(supervisor)}

    async def scenario() -> dict[str, Any]:
        sockets = {name: Socket("/ws/inbox/", cookie) for name, cookie in cookies.items()}
        for socket in sockets.values():
            assert (await socket.connect())[0]
        # The service commits, then its on-commit callback pushes the change.
        conversation = await sync_to_async(open_conv)(account)
        seen = {"id": conversation.pk,
                "agent": await sockets["agent"].receive_json(),
                "supervisor": await sockets["supervisor"].receive_json(),
                "other": await sockets["other"].receive_nothing(timeout=0.3)}
        # A direct push about the same conversation (e.g. from a task).
        await sync_to_async(live.inbox_changed)(conversation.pk, "sla")
        seen["again"] = await sockets["agent"].receive_json()
        seen["other_again"] = await sockets["other"].receive_nothing(timeout=0.3)
        for socket in sockets.values():
            await socket.disconnect()
        return seen

    seen = async_to_sync(scenario)()
    expected = {"type": "inbox.changed", "conversation": seen["id"], "reason": "created"}
    assert seen["agent"] == expected
    assert seen["supervisor"] == expected
    assert seen["other"] is True  # nothing reached the other account's agent
    assert seen["again"] == {**expected, "reason": "sla"}
    assert seen["other_again"] is True


# --- /ws/conversations/<id>/ ---------------------------------------------------------------------


def test_conversation_socket_refuses_who_cannot_see_it(account: Any, agent: Any,
                                                       other_agent: Any, client_user: Any,
                                                       billing: Any) -> None:
    c = open_conv(account)
    path = f"/ws/conversations/{c.pk}/"
    assert try_connect(path) == (False, 4403)
    assert try_connect(path, client_user) == (False, 4403)
    assert try_connect(path, other_agent) == (False, 4403)
    assert try_connect(f"/ws/conversations/{c.pk + 1000}/", agent) == (False, 4403)
    assert try_connect(path, agent) == (True, None)
    assert try_connect(path, billing) == (True, None)  # staff who may read it


def test_presence_typing_and_new_messages(account: Any, agent: Any, colleague: Any) -> None:
    c = open_conv(account)
    path = f"/ws/conversations/{c.pk}/"

    def names(message: dict[str, Any]) -> dict[str, bool]:
        assert message["type"] == "presence"
        return {u["name"]: u["typing"] for u in message["users"]}

    cookie_a, cookie_b = session_cookie(agent), session_cookie(colleague)

    async def scenario() -> dict[str, Any]:
        a, b = Socket(path, cookie_a), Socket(path, cookie_b)
        seen: dict[str, Any] = {}
        assert (await a.connect())[0]
        seen["a_alone"] = names(await a.receive_json())
        assert (await b.connect())[0]
        seen["a_sees_b"] = names(await a.receive_json())
        seen["b_sees_a"] = names(await b.receive_json())
        await a.send_json({"type": "typing", "typing": True})
        seen["b_sees_typing"] = names(await b.receive_json())
        seen["a_sees_typing"] = names(await a.receive_json())
        await a.send_json({"type": "typing", "typing": False})
        seen["b_sees_stop"] = names(await b.receive_json())
        await a.receive_json()
        await a.send_json({"type": "something else"})
        seen["ignored"] = await b.receive_nothing(timeout=0.2)
        # The customer writes again: both viewers are told.
        message = await sync_to_async(services.message_add_inbound)(c, Incoming(
            account=account, channel=Channel.EMAIL, subject="Re", body_text="Je rappelle"))
        seen["message_id"] = message.pk
        seen["a_message"] = await a.receive_until("message")
        seen["b_message"] = await b.receive_until("message")
        # An agent's reply shows as outgoing.
        reply = await sync_to_async(Message.objects.create)(
            conversation=c, direction="out", channel=c.channel, body_text="Bien noté",
            created_at=message.created_at)
        await sync_to_async(live.message_added)(c.pk, reply.pk)
        seen["reply"] = await b.receive_until("message")
        seen["reply_id"] = reply.pk
        await b.disconnect()
        seen["a_after_b_left"] = names(await a.receive_until("presence"))
        await a.disconnect()
        return seen

    seen = async_to_sync(scenario)()
    assert seen["a_alone"] == {"agent": False}
    assert seen["a_sees_b"] == seen["b_sees_a"] == {"agent": False, "Claire Martin": False}
    assert seen["b_sees_typing"] == seen["a_sees_typing"] == {"agent": True,
                                                              "Claire Martin": False}
    assert seen["b_sees_stop"] == {"agent": False, "Claire Martin": False}
    assert seen["ignored"] is True
    expected = {"type": "message", "message": seen["message_id"], "direction": "in"}
    assert seen["a_message"] == seen["b_message"] == expected
    assert seen["reply"] == {"type": "message", "message": seen["reply_id"], "direction": "out"}
    assert seen["a_after_b_left"] == {"agent": False}


def test_conversation_changes_are_pushed(account: Any, agent: Any, other_agent: Any) -> None:
    c = open_conv(account)
    other = open_conv(account, contact_phone="+33699999999")

    cookie = session_cookie(agent)

    async def scenario() -> list[Any]:
        socket = Socket(f"/ws/conversations/{c.pk}/", cookie)
        assert (await socket.connect())[0]
        await socket.receive_json()  # own presence
        await sync_to_async(live.inbox_changed)(other.pk, "updated")  # another conversation
        quiet = await socket.receive_nothing(timeout=0.2)
        await sync_to_async(services.conversation_set_status)(
            actor=agent, conversation=c, status="ouvert")
        changed = await socket.receive_until("changed")
        await socket.disconnect()
        return [quiet, changed]

    quiet, changed = async_to_sync(scenario)()
    assert quiet is True
    assert changed == {"type": "changed", "reason": "updated"}
