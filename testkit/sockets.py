"""A websocket client for tests, speaking ASGI to `permanence.asgi.application` (the whole
stack: origin check, session authentication, routing, consumers).

channels' own WebsocketCommunicator cannot be imported without daphne, which the project
does not install: this is the same small client the inbox's and the chat's socket tests
carry, shared here for the cross-tenant probes."""

from __future__ import annotations

import json
from typing import Any

from asgiref.testing import ApplicationCommunicator
from django.conf import settings
from django.test import Client

LOCAL_ORIGIN = "http://localhost"


class Socket(ApplicationCommunicator):  # type: ignore[misc]
    def __init__(self, path: str, *, cookie: bytes | None = None,
                 origin: str = LOCAL_ORIGIN, query: bytes = b"") -> None:
        from permanence.asgi import application  # built on first use: it sets Django up

        headers = [(b"host", b"localhost"), (b"origin", origin.encode())]
        if cookie is not None:
            headers.append((b"cookie", cookie))
        super().__init__(application, {
            "type": "websocket", "path": path, "query_string": query, "subprotocols": [],
            "headers": headers})

    async def connect(self) -> tuple[bool, Any]:
        """(True, None) when accepted, (False, close code) when refused."""
        await self.send_input({"type": "websocket.connect"})
        response = await self.receive_output(timeout=3)
        if response["type"] == "websocket.close":
            return False, response.get("code", 1000)
        assert response["type"] == "websocket.accept", response  # noqa: S101  # nosec B101
        return True, None

    async def send_json(self, data: Any) -> None:
        await self.send_input({"type": "websocket.receive", "text": json.dumps(data)})

    async def receive_json(self, timeout: float = 3) -> Any:
        response = await self.receive_output(timeout=timeout)
        assert response["type"] == "websocket.send", response  # noqa: S101  # nosec B101
        return json.loads(response["text"])

    async def drain(self, timeout: float = 0.3) -> list[Any]:
        """Every frame already sent or sent within `timeout` seconds."""
        frames = []
        while not await self.receive_nothing(timeout=timeout):
            frames.append(await self.receive_json())
        return frames

    async def disconnect(self) -> None:
        await self.send_input({"type": "websocket.disconnect", "code": 1000})
        await self.wait(timeout=3)


def session_cookie(user: Any) -> bytes:
    """A session cookie for `user`, made from the test's thread (not inside the event loop,
    whose thread would open a database connection of its own and keep it)."""
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    name = settings.SESSION_COOKIE_NAME
    return f"{name}={client.cookies[name].value}".encode()
