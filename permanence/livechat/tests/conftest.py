"""Live chat test world: an account whose chat is enabled for one site, open round the
clock (its own calendar), with two public FAQ articles for the bot."""

from __future__ import annotations

import json
from typing import Any

import pytest
from asgiref.testing import ApplicationCommunicator
from django.conf import settings
from django.test import Client

ORIGIN = "https://www.cabinet-martin.fr"


@pytest.fixture(autouse=True)
def _fresh_channel_layer() -> Any:
    """Each test's sockets run in an event loop of their own (async_to_sync). A Redis layer
    kept from an earlier test may hold its receive lock, bound to that test's closed loop,
    when a consumer was cancelled mid-receive: give each test a layer of its own."""
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


@pytest.fixture
def chat_account(account: Any) -> Any:
    from permanence.calendars.models import BusinessCalendar
    from permanence.knowledge.services import ArticleData, article_create, article_publish
    from permanence.livechat.models import ChatSettings

    always = {day: [["00:00", "23:59"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat",
                                                      "sun")}
    account.calendar = BusinessCalendar.objects.create(name="Toujours", weekly=always,
                                                       holidays="")
    account.save(update_fields=["calendar"])
    ChatSettings.objects.create(account=account, enabled=True, allowed_origins=ORIGIN,
                                capacity_per_agent=2)
    for title, body in [
        ("Horaires d'ouverture du cabinet",
         "Le cabinet est ouvert du lundi au vendredi de 8 h 30 à 18 h, le samedi matin sur "
         "rendez-vous."),
        ("Annuler un rendez-vous",
         "Pour annuler un rendez-vous, appelez le secrétariat au moins 24 heures avant ou "
         "utilisez le lien reçu par SMS."),
    ]:
        article = article_create(actor=None, account=account, data=ArticleData(
            title=title, body=f"<p>{body}</p>", visibility="public", language="fr"))
        article_publish(actor=None, article=article)
    return account


@pytest.fixture
def seated(agent: Any) -> Any:
    """`agent` on the chat console (their socket beats)."""
    from permanence.livechat import services

    services.seat_beat(user=agent)
    return agent


def start_chat(client: Client, slug: str = "cabinet-martin", origin: str = ORIGIN,
               **extra: Any) -> Any:
    body = {"name": "Jeanne Visiteur", "email": "jeanne@exemple.fr", "consent": True,
            "page_url": "https://www.cabinet-martin.fr/tarifs", "page_title": "Tarifs",
            **extra}
    return client.post(f"/chat/{slug}/start", json.dumps(body), content_type="application/json",
                       HTTP_ORIGIN=origin)


class Socket(ApplicationCommunicator):
    """A websocket client speaking ASGI to `permanence.asgi.application` (as the inbox's
    consumer tests do)."""

    def __init__(self, path: str, *, origin: str = ORIGIN, cookie: bytes | None = None,
                 query: bytes = b""):
        from permanence.asgi import application

        headers = [(b"host", b"localhost"), (b"origin", origin.encode())]
        if cookie is not None:
            headers.append((b"cookie", cookie))
        super().__init__(application, {
            "type": "websocket", "path": path, "query_string": query, "subprotocols": [],
            "headers": headers})

    async def connect(self) -> tuple[bool, Any]:
        await self.send_input({"type": "websocket.connect"})
        response = await self.receive_output(timeout=3)
        if response["type"] == "websocket.close":
            return False, response.get("code", 1000)
        assert response["type"] == "websocket.accept", response
        return True, None

    async def send_json(self, data: Any) -> None:
        await self.send_input({"type": "websocket.receive", "text": json.dumps(data)})

    async def send_text(self, text: str) -> None:
        await self.send_input({"type": "websocket.receive", "text": text})

    async def receive_json(self, timeout: float = 3) -> Any:
        response = await self.receive_output(timeout=timeout)
        assert response["type"] == "websocket.send", response
        return json.loads(response["text"])

    async def until(self, check: Any, limit: int = 30) -> Any:
        for _ in range(limit):
            frame = await self.receive_json()
            if check(frame):
                return frame
        raise AssertionError("expected frame not received")

    async def drain(self) -> list[Any]:
        frames = []
        while not await self.receive_nothing(timeout=0.3):
            frames.append(await self.receive_json())
        return frames

    async def disconnect(self) -> None:
        await self.send_input({"type": "websocket.disconnect", "code": 1000})
        await self.wait(timeout=2)


def session_cookie(user: Any) -> bytes:
    client = Client()
    client.force_login(user)
    name = settings.SESSION_COOKIE_NAME
    return f"{name}={client.cookies[name].value}".encode()
