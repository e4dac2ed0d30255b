"""Cross-tenant probes over the websockets (issue 15; the HTTP ones: test_cross_tenant.py).

Every websocket route of permanence/routing.py has a probe here (a test fails otherwise):
users of account B — its titulaire, a collaborator (« membre ») and a secretary assigned to B
alone — try account A's ids. A conversation socket on A's conversation is closed (4403) and
records no presence; the inbox, desk, agenda and live sockets of B's users receive nothing
pushed about A (while A's own users do, or B's about B: the sockets work); the chat console
answers « Chat inconnu » to a watch of A's chat, as for a chat that does not exist; the
visitor socket opens only with the chat's secret token from A's site. The consumers read the
database from other threads: the data is committed (transactional tests), hence a module of
its own, apart from the matrix's world built in a rolled-back transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from asgiref.sync import async_to_sync

from testkit.sockets import Socket, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)

TITULAIRE = "titulaire de B"
MEMBRE = "membre de B"
SECRETAIRE = "secrétaire de B"
MISSING_INT = 2_000_000_000  # a chat id that exists nowhere

WS_PROBES = {
    "ws/live/": "test_ws_live_and_desk_groups_are_per_user",
    "ws/inbox/": "test_ws_inbox_pushes_nothing_about_a",
    "ws/conversations/<int:pk>/": "test_ws_conversation_socket_of_a_is_refused",
    "ws/desk/": "test_ws_live_and_desk_groups_are_per_user",
    "ws/agenda/": "test_ws_agenda_pushes_nothing_about_a",
    "ws/chat/agent/": "test_ws_chat_console_cannot_watch_a_chat",
    "ws/chat/visitor/<str:token>/": "test_ws_chat_visitor_socket_needs_the_chat_token",
}


def test_every_websocket_route_is_probed() -> None:
    from permanence.routing import chat_visitor_urlpatterns, websocket_urlpatterns

    routes = {str(p.pattern) for p in [*websocket_urlpatterns, *chat_visitor_urlpatterns]}
    assert routes == set(WS_PROBES), (
        f"websocket routes without a cross-tenant probe: {sorted(routes - set(WS_PROBES))}; "
        f"probes of routes that no longer exist: {sorted(set(WS_PROBES) - routes)}")
    assert all(name in globals() for name in WS_PROBES.values())


@pytest.fixture
def _fresh_channel_layer() -> Iterator[None]:
    """Each test's sockets run in an event loop of their own: a layer (Redis) kept from an
    earlier test may hold a lock bound to that test's closed loop (livechat's conftest)."""
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


@dataclass
class SocketWorld:
    a: Any
    b: Any
    a_agent: Any
    users: dict[str, Any]  # B's probes
    conversation: Any
    chat: Any
    chat_token: str


@pytest.fixture
def sockets(transactional_db: Any, _fresh_channel_layer: Any, account: Any, other_account: Any,
            agent: Any, other_agent: Any, outsider_client: Any, make_user: Any) -> SocketWorld:
    """Committed data (the consumers read the database from other threads): A with a
    conversation, an agenda resource and a waiting chat; B with its titulaire, a member and
    its secretary. B's secretary is on the chat console and has an agenda resource."""
    from permanence.accounts.models import Membership
    from permanence.agenda import services as agenda
    from permanence.inbox import services as inbox
    from permanence.livechat import services as livechat
    from permanence.livechat.models import ChatSettings

    admin = make_user("admin@test.fr", "admin")
    membre = make_user("membre-b@test.fr", "client")
    Membership.objects.create(user=membre, account=other_account, role="membre")
    for acc in (account, other_account):
        agenda.resource_create(actor=admin, account_id=acc.pk, data={
            "name": f"Dr {acc.slug}", "weekly": {"mon": [["08:00", "20:00"]]}})
    conversation = inbox.conversation_open(inbox.Incoming(
        account=account, channel="email", subject="Question", body_text="Bonjour",
        contact_email="jeanne@cabinet-martin.fr", acknowledge=False))
    settings_row = ChatSettings.objects.create(account=account, enabled=True,
                                               allowed_origins="https://client.example")
    chat, token = livechat.chat_start(chat_settings=settings_row,
                                      origin="https://client.example", name="Jeanne",
                                      email="jeanne@cabinet-martin.fr", consent=True)
    livechat.visitor_message_send(session=chat, client_id="m1", body="Un conseiller svp")
    return SocketWorld(a=account, b=other_account, a_agent=agent,
                       users={TITULAIRE: outsider_client, MEMBRE: membre,
                              SECRETAIRE: other_agent},
                       conversation=conversation, chat=chat, chat_token=token)


def _run(scenario: Callable[[], Any]) -> Any:
    return async_to_sync(scenario)()


def _group_send(group: str, message: dict[str, Any]) -> Any:
    from channels.layers import get_channel_layer

    return get_channel_layer().group_send(group, message)


def test_ws_conversation_socket_of_a_is_refused(sockets: SocketWorld) -> None:
    """B's users open no socket on A's conversation: closed 4403, no presence recorded, and
    nothing pushed to the conversation's group reaches them."""
    from django.core.cache import cache

    from permanence.inbox.live import conversation_group

    cookies = {name: session_cookie(user) for name, user in sockets.users.items()}
    path = f"/ws/conversations/{sockets.conversation.pk}/"

    async def scenario() -> dict[str, Any]:
        results = {}
        for name, cookie in cookies.items():
            socket = Socket(path, cookie=cookie)
            results[name] = await socket.connect()
            await _group_send(conversation_group(sockets.conversation.pk),
                              {"type": "conversation.changed", "reason": "note"})
            assert await socket.receive_nothing(timeout=0.2)
        return results

    assert _run(scenario) == dict.fromkeys(cookies, (False, 4403))
    assert not cache.get(f"presence:{sockets.conversation.pk}")
    # The socket itself works: A's secretary opens it.
    own = session_cookie(sockets.a_agent)

    async def own_scenario() -> Any:
        socket = Socket(path, cookie=own)
        result = await socket.connect()
        await socket.disconnect()
        return result

    assert _run(own_scenario) == (True, None)


def test_ws_inbox_pushes_nothing_about_a(sockets: SocketWorld) -> None:
    """B's secretary's inbox socket gets no word of A's conversation (B's clients get no
    inbox socket); A's secretary does."""
    from permanence.inbox.live import INBOX_GROUP

    cookies = {name: session_cookie(user) for name, user in sockets.users.items()}
    own = session_cookie(sockets.a_agent)

    async def scenario() -> tuple[dict[str, Any], list[Any], list[Any]]:
        refused = {}
        for name in (TITULAIRE, MEMBRE):
            socket = Socket("/ws/inbox/", cookie=cookies[name])
            refused[name] = await socket.connect()
        b_socket = Socket("/ws/inbox/", cookie=cookies[SECRETAIRE])
        a_socket = Socket("/ws/inbox/", cookie=own)
        assert (await b_socket.connect())[0] and (await a_socket.connect())[0]
        await _group_send(INBOX_GROUP, {"type": "inbox.changed",
                                        "conversation": sockets.conversation.pk,
                                        "reason": "created"})
        a_frames = await a_socket.drain()
        b_frames = await b_socket.drain()
        await a_socket.disconnect()
        await b_socket.disconnect()
        return refused, a_frames, b_frames

    refused, a_frames, b_frames = _run(scenario)
    assert refused == {TITULAIRE: (False, 4403), MEMBRE: (False, 4403)}
    assert [f["conversation"] for f in a_frames] == [sockets.conversation.pk]
    assert b_frames == []


def test_ws_agenda_pushes_nothing_about_a(sockets: SocketWorld) -> None:
    """The agenda socket of each of B's users joins B's group only: a change of A's agenda
    reaches none of them, one of B's reaches each."""
    from permanence.agenda.notify import account_group

    cookies = {name: session_cookie(user) for name, user in sockets.users.items()}

    async def scenario() -> dict[str, tuple[list[Any], list[Any]]]:
        opened = {}
        for name, cookie in cookies.items():
            opened[name] = Socket("/ws/agenda/", cookie=cookie)
            assert (await opened[name].connect())[0], name
        await _group_send(account_group(sockets.a.pk),
                          {"type": "agenda.changed", "account": sockets.a.pk})
        of_a = {name: await socket.drain() for name, socket in opened.items()}
        await _group_send(account_group(sockets.b.pk),
                          {"type": "agenda.changed", "account": sockets.b.pk})
        of_b = {name: await socket.drain() for name, socket in opened.items()}
        for socket in opened.values():
            await socket.disconnect()
        return {name: (of_a[name], of_b[name]) for name in opened}

    for name, (of_a, of_b) in _run(scenario).items():
        assert of_a == [], name
        assert [f["account"] for f in of_b] == [sockets.b.pk], name


def test_ws_live_and_desk_groups_are_per_user(sockets: SocketWorld) -> None:
    """The live socket (every logged-in user) and the desk socket (B's secretary; B's clients
    are refused) join their own user's groups: a notification or a screen pop for A's
    secretary reaches none of B's users."""
    from permanence.core.consumers import user_group
    from permanence.desk.live import agent_group

    cookies = {name: session_cookie(user) for name, user in sockets.users.items()}

    async def scenario() -> tuple[dict[str, Any], dict[str, list[Any]]]:
        refused = {}
        opened = {}
        for name, cookie in cookies.items():
            live = Socket("/ws/live/", cookie=cookie)
            assert (await live.connect())[0], name
            assert (await live.receive_json())["type"] == "hello"
            opened[f"live {name}"] = live
            desk = Socket("/ws/desk/", cookie=cookie)
            result = await desk.connect()
            if name == SECRETAIRE:
                assert result == (True, None)
                opened[f"desk {name}"] = desk
            else:
                refused[name] = result
        await _group_send(user_group(sockets.a_agent.pk),
                          {"type": "notify", "payload": {"conversation": 1}})
        await _group_send(agent_group(sockets.a_agent.pk),
                          {"type": "desk.pop", "pop": {"call": 1, "account": sockets.a.pk}})
        frames = {name: await socket.drain() for name, socket in opened.items()}
        for socket in opened.values():
            await socket.disconnect()
        return refused, frames

    refused, frames = _run(scenario)
    assert refused == {TITULAIRE: (False, 4403), MEMBRE: (False, 4403)}
    assert frames == dict.fromkeys(frames, [])


def test_ws_chat_console_cannot_watch_a_chat(sockets: SocketWorld) -> None:
    """B's clients get no console; B's secretary's console answers « Chat inconnu » to a
    watch of A's chat — as for a chat that does not exist — and then receives nothing of
    it, its messages or its typing."""
    from permanence.livechat.live import chat_group

    cookies = {name: session_cookie(user) for name, user in sockets.users.items()}
    chat_id = sockets.chat.pk

    async def scenario() -> tuple[dict[str, Any], list[Any], list[Any]]:
        refused = {}
        for name in (TITULAIRE, MEMBRE):
            socket = Socket("/ws/chat/agent/", cookie=cookies[name])
            refused[name] = await socket.connect()
        console = Socket("/ws/chat/agent/", cookie=cookies[SECRETAIRE])
        assert (await console.connect())[0]
        assert (await console.receive_json())["type"] == "hello"
        answers = []
        for chat in (chat_id, MISSING_INT):
            await console.send_json({"type": "watch", "chat": chat, "after": 0})
            answers.append(await console.receive_json())
        await console.send_json({"type": "typing", "chat": chat_id, "typing": True})
        await _group_send(chat_group(chat_id), {"type": "chat.typing", "chat": chat_id,
                                                "who": "visitor", "typing": True})
        later = await console.drain()
        await console.disconnect()
        return refused, answers, later

    refused, answers, later = _run(scenario)
    assert refused == {TITULAIRE: (False, 4403), MEMBRE: (False, 4403)}
    assert [{k: v for k, v in a.items() if k != "chat"} for a in answers] == [
        {"type": "error", "code": "not_found", "message": "Chat inconnu."}] * 2
    assert [f for f in later if f["type"] != "queue"] == []


def test_ws_chat_visitor_socket_needs_the_chat_token(sockets: SocketWorld) -> None:
    """The visitor's socket of A's chat is opened by its secret token (the credential, held
    by the visitor only) from A's site: a session of B's users adds nothing — A's chat id in
    place of the token, or the token from another origin, is refused."""
    cookies = {name: session_cookie(user) for name, user in sockets.users.items()}

    async def attempt(token: str, origin: str, cookie: bytes | None) -> Any:
        socket = Socket(f"/ws/chat/visitor/{token}/", cookie=cookie, origin=origin)
        result = await socket.connect()
        if result[0]:
            await socket.disconnect()
        return result

    async def scenario() -> dict[str, Any]:
        results = {}
        for name, cookie in cookies.items():
            results[f"{name}, A's chat id"] = await attempt(str(sockets.chat.pk),
                                                             "https://client.example", cookie)
            results[f"{name}, localhost"] = await attempt(sockets.chat_token,
                                                          "http://localhost", cookie)
        results["the token, A's site"] = await attempt(sockets.chat_token,
                                                       "https://client.example", None)
        return results

    results = _run(scenario)
    assert results.pop("the token, A's site") == (True, None)
    assert results == dict.fromkeys(results, (False, 4403))

