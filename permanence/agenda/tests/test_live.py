"""/ws/agenda/ over the whole ASGI stack: a booking, a move or blocked time reaches the pages
that show that account's agenda (secretaries who work for it, its client), and nobody
else's."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import async_to_sync, sync_to_async

from permanence.agenda import services
from permanence.core import clock
from permanence.inbox.tests.test_consumers import Socket, session_cookie, try_connect

from .conftest import paris

pytestmark = pytest.mark.django_db(transaction=True)


def test_agenda_socket_is_for_those_who_book(agent: Any, billing: Any, client_user: Any,
                                             resource: Any) -> None:
    assert try_connect("/ws/agenda/") == (False, 4403)
    assert try_connect("/ws/agenda/", billing) == (False, 4403)
    assert try_connect("/ws/agenda/", agent) == (True, None)
    assert try_connect("/ws/agenda/", client_user) == (True, None)


def test_a_booking_reaches_the_accounts_agenda_pages_only(kind: Any, agent: Any,
                                                          client_user: Any,
                                                          other_agent: Any,
                                                          outsider_client: Any) -> None:
    cookies = {name: session_cookie(user) for name, user in (
        ("agent", agent), ("client", client_user), ("other", other_agent),
        ("outsider", outsider_client))}

    def book() -> Any:
        with clock.frozen(paris(2027, 2, 26, 18)):
            return services.appointment_book(
                actor=agent, kind=kind, start=paris(2027, 3, 1, 9),
                booking=services.Booking(contact=services.Contact(name="Jeanne Dupont")))

    async def scenario() -> dict[str, Any]:
        sockets = {name: Socket("/ws/agenda/", cookie) for name, cookie in cookies.items()}
        for socket in sockets.values():
            assert (await socket.connect())[0]
        await sync_to_async(book)()
        seen = {"agent": await sockets["agent"].receive_json(),
                "client": await sockets["client"].receive_json(),
                "other": await sockets["other"].receive_nothing(timeout=0.3),
                "outsider": await sockets["outsider"].receive_nothing(timeout=0.3)}
        for socket in sockets.values():
            await socket.disconnect()
        return seen

    seen = async_to_sync(scenario)()
    expected = {"type": "agenda.changed", "account": kind.account_id}
    assert seen["agent"] == expected and seen["client"] == expected
    assert seen["other"] is True and seen["outsider"] is True
