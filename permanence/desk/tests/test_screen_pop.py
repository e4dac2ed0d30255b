"""The screen pop: a call ringing reaches, over a real websocket (/ws/desk/ through the whole
ASGI stack: origin check, session auth, routing, consumer), the agent it rings for and only
that agent — the one the event names, or else the available agents assigned to the account.
Cross-process (runstack + simulate_call over HTTP): test_screen_pop_cross_process.py."""

from __future__ import annotations

import json
from typing import Any

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from asgiref.testing import ApplicationCommunicator
from django.conf import settings
from django.test import Client

from permanence.desk import agents
from permanence.desk.models import AgentStatus, Call

from .calls_helpers import event, number_account, post

pytestmark = pytest.mark.django_db(transaction=True)


class Socket(ApplicationCommunicator):
    """A WebSocket client speaking ASGI to permanence.asgi.application (as in the inbox's
    test_consumers.py)."""

    def __init__(self, cookie: bytes | None) -> None:
        from permanence.asgi import application

        headers = [(b"host", b"localhost"), (b"origin", b"http://localhost")]
        if cookie is not None:
            headers.append((b"cookie", cookie))
        super().__init__(application, {"type": "websocket", "path": "/ws/desk/",
                                       "query_string": b"", "subprotocols": [],
                                       "headers": headers})

    async def connect(self) -> tuple[bool, Any]:
        await self.send_input({"type": "websocket.connect"})
        response = await self.receive_output(timeout=2)
        if response["type"] == "websocket.close":
            return False, response.get("code", 1000)
        return True, None

    async def receive_json(self) -> Any:
        response = await self.receive_output(timeout=2)
        assert response["type"] == "websocket.send", response
        return json.loads(response["text"])

    async def next_of(self, kind: str) -> Any:
        for _ in range(10):
            message = await self.receive_json()
            if message["type"] == kind:
                return message
        raise AssertionError(f"no {kind}")

    async def disconnect(self) -> None:
        await self.send_input({"type": "websocket.disconnect", "code": 1000})
        await self.wait(timeout=2)


def cookie_of(user: Any) -> bytes:
    client = Client()
    client.force_login(user)
    name = settings.SESSION_COOKIE_NAME
    return f"{name}={client.cookies[name].value}".encode()


def _ring(data: dict[str, Any]) -> int:
    response = post(Client(), data)
    assert response.status_code == 200, response.content
    return int(response.json()["call"])


def test_only_staff_who_answer_may_connect(agent: Any, billing: Any, client_user: Any,
                                           supervisor: Any) -> None:
    async def connect(cookie: bytes | None) -> tuple[bool, Any]:
        socket = Socket(cookie)
        result = await socket.connect()
        if result[0]:
            await socket.disconnect()
        return result

    assert async_to_sync(connect)(None) == (False, 4403)
    assert async_to_sync(connect)(cookie_of(client_user)) == (False, 4403)
    assert async_to_sync(connect)(cookie_of(billing)) == (False, 4403)
    assert async_to_sync(connect)(cookie_of(agent)) == (True, None)
    assert async_to_sync(connect)(cookie_of(supervisor)) == (True, None)


def test_the_pop_reaches_the_available_agents_of_the_account_only(
        account: Any, agent: Any, other_agent: Any, make_user: Any) -> None:
    number_account(account)
    on_break = make_user("pause@test.fr", "agent")
    account.assigned_agents.add(on_break)
    agents.agent_state_set(user=on_break, status=AgentStatus.BREAK)
    cookies = {"agent": cookie_of(agent), "other": cookie_of(other_agent),
               "break": cookie_of(on_break)}

    async def scenario() -> dict[str, Any]:
        sockets = {name: Socket(c) for name, c in cookies.items()}
        for socket in sockets.values():
            assert (await socket.connect())[0]
        call_pk = await sync_to_async(_ring)(event("ringing", caller_name="Jean Patient"))
        seen = {"call": call_pk, "agent": await sockets["agent"].next_of("call.ringing"),
                "other": await sockets["other"].receive_nothing(timeout=0.3),
                "break": await sockets["break"].receive_nothing(timeout=0.3)}
        for socket in sockets.values():
            await socket.disconnect()
        return seen

    seen = async_to_sync(scenario)()
    pop = seen["agent"]
    assert pop["call"] == seen["call"]
    assert pop["text"] == "Appel entrant — Cabinet Martin — 06 12 34 56 78"
    assert pop["url"] == f"/app/poste/appels/{seen['call']}/"
    assert pop["caller_name"] == "Jean Patient"
    assert seen["other"] is True and seen["break"] is True


def test_the_agent_named_by_the_event_is_the_only_one(account: Any, agent: Any,
                                                      make_user: Any) -> None:
    number_account(account)
    named = make_user("nommee@test.fr", "agent")
    account.assigned_agents.add(named)
    cookies = {"agent": cookie_of(agent), "named": cookie_of(named)}

    async def scenario() -> dict[str, Any]:
        sockets = {name: Socket(c) for name, c in cookies.items()}
        for socket in sockets.values():
            assert (await socket.connect())[0]
        await sync_to_async(_ring)(event("ringing", agent="nommee@test.fr"))
        seen = {"named": await sockets["named"].next_of("call.ringing"),
                "agent": await sockets["agent"].receive_nothing(timeout=0.3)}
        for socket in sockets.values():
            await socket.disconnect()
        return seen

    seen = async_to_sync(scenario)()
    assert seen["named"]["call"] == Call.objects.get().pk
    assert seen["agent"] is True


def test_no_pop_for_a_call_already_over_and_the_board_hears_states(
        account: Any, agent: Any, supervisor: Any) -> None:
    number_account(account)
    cookies = {"agent": cookie_of(agent), "supervisor": cookie_of(supervisor)}

    def ring_and_hang_up() -> None:
        for data in (event("ringing", "late"), event("hangup", "late", at=5,
                                                      cause="caller_abandoned")):
            post(Client(), data)

    async def scenario() -> dict[str, Any]:
        sockets = {name: Socket(c) for name, c in cookies.items()}
        for socket in sockets.values():
            assert (await socket.connect())[0]
        # The ringing pops; the hangup that follows pops nothing.
        await sync_to_async(ring_and_hang_up)()
        seen: dict[str, Any] = {"first": await sockets["agent"].next_of("call.ringing")}
        seen["nothing_more"] = await sockets["agent"].receive_nothing(timeout=0.3)
        await sync_to_async(agents.agent_state_set)(user=agent, status=AgentStatus.BREAK)
        seen["board"] = await sockets["supervisor"].next_of("agent.state")
        seen["own"] = await sockets["agent"].next_of("agent.state")
        for socket in sockets.values():
            await socket.disconnect()
        return seen

    seen = async_to_sync(scenario)()
    assert seen["nothing_more"] is True  # the hangup pops nothing
    assert seen["board"] == {"type": "agent.state", "user": agent.pk, "status": "en_pause"}
    assert seen["own"]["status"] == "en_pause"
