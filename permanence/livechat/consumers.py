"""The chat's websockets: the visitor's (`/ws/chat/visitor/<token>/`, from the client's
site, origin checked against the account's list) and the secretaries' console
(`/ws/chat/agent/`, session-authenticated).

Both read messages from the database after a cursor (the last message id sent on this
socket): a push is only a wake-up, so a socket never sends a message twice and, on
reconnection, the client says the last id it has (`?after=`) and gets exactly what follows.
Messages are announced on the inbox's conversation group (inbox.live), whichever process
wrote them (the relay or Redis carry it across processes)."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.core.cache import cache
from django.utils.translation import gettext as _

from permanence.core.errors import DomainError, NotFound
from permanence.inbox.live import conversation_group

from . import origins, selectors, services, visitor_ops
from .live import AGENTS_GROUP, TYPING_SECONDS, chat_group, typing_key
from .models import ChatSession
from .payloads import message_for_staff, message_for_visitor
from .permissions import can_take_chats, can_use_chat_console

MAX_FRAME = 64 * 1024
MAX_ID = 2**63 - 1


def _after(scope: dict[str, Any]) -> int:
    raw = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("after", ["0"])[0]
    return int(raw) if raw.isdigit() and int(raw) <= MAX_ID else 0


def _error(exc: DomainError, **extra: Any) -> dict[str, Any]:
    return {"type": "error", **exc.as_json(), **extra}


class _JsonSocket(AsyncJsonWebsocketConsumer):
    """JSON frames; a frame that is not a JSON object gets an error frame, not a crash."""

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None,
                      **kwargs: Any) -> None:
        if text_data is None or len(text_data) > MAX_FRAME:
            await self.send_json({"type": "error", "code": "invalid",
                                  "message": _("Message illisible.")})
            return
        try:
            content = json.loads(text_data)
        except ValueError:
            content = None
        if not isinstance(content, dict) or not isinstance(content.get("type"), str):
            await self.send_json({"type": "error", "code": "invalid",
                                  "message": _("Message illisible.")})
            return
        await self.receive_json(content)

    # Events of the inbox's conversation group that these sockets do not use.
    async def conversation_changed(self, event: dict[str, Any]) -> None:
        return

    async def presence_update(self, event: dict[str, Any]) -> None:
        return


# --- The visitor ----------------------------------------------------------------------------

@database_sync_to_async
def _visitor_session(token: str, origin: str) -> ChatSession | None:
    try:
        session = selectors.session_for_token(token)
    except NotFound:
        return None
    chat_settings = selectors.settings_of(session.account)
    if chat_settings is None or not chat_settings.enabled or not origins.allowed(
            chat_settings, origin):
        return None
    return session


@database_sync_to_async
def _visitor_batch(session_id: int, after: int) -> tuple[ChatSession, list[dict[str, Any]]]:
    session = ChatSession.objects.select_related("account").get(pk=session_id)
    messages = list(selectors.visitor_messages(session, after=after))
    return session, [message_for_visitor(m, session) for m in messages]


class VisitorChatConsumer(_JsonSocket):
    async def connect(self) -> None:
        token = str(self.scope["url_route"]["kwargs"].get("token", ""))
        session = await _visitor_session(token, origins.scope_origin(self.scope))
        if session is None:
            await self.close(code=4403)
            return
        self.session_id = session.pk
        self.cursor = _after(self.scope)
        self.joined: set[str] = set()
        self.flushing = asyncio.Lock()
        await self._join(chat_group(session.pk))
        await self.accept()
        await self.send_json({"type": "hello", "status": session.status})
        await self._flush()

    async def _join(self, group: str) -> None:
        if group not in self.joined:
            await self.channel_layer.group_add(group, self.channel_name)
            self.joined.add(group)

    async def disconnect(self, code: int) -> None:
        for group in getattr(self, "joined", ()):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def _flush(self) -> None:
        """Every message after the cursor, once, in order."""
        async with self.flushing:
            session, batch = await _visitor_batch(self.session_id, self.cursor)
            if session.conversation_id:
                await self._join(conversation_group(session.conversation_id))
            for item in batch:
                await self.send_json({"type": "message", "message": item})
                self.cursor = max(self.cursor, item["id"])

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        kind = content.get("type")
        try:
            if kind == "message":
                await self._message(content)
            elif kind == "typing":
                await self.channel_layer.group_send(chat_group(self.session_id), {
                    "type": "chat.typing", "chat": self.session_id, "who": "visitor",
                    "typing": content.get("typing") is True})
            elif kind in visitor_ops.ACTIONS:
                await database_sync_to_async(visitor_ops.action)(self.session_id, content)
                await self._flush()
            elif kind == "ping":
                await self.send_json({"type": "pong"})
            else:
                raise DomainError("invalid", _("Type de message inconnu."), status=400)
        except DomainError as exc:
            await self.send_json(_error(exc, client_id=content.get("client_id")))

    async def _message(self, content: dict[str, Any]) -> None:
        message_id, created = await database_sync_to_async(visitor_ops.send)(
            self.session_id, content.get("client_id"), content.get("body"))
        # Committed: now acknowledged and shown.
        await self.send_json({"type": "ack", "client_id": content.get("client_id"),
                              "id": message_id})
        await self._flush()
        if created:
            await database_sync_to_async(visitor_ops.bot)(self.session_id, message_id)
            await self._flush()

    async def conversation_message(self, event: dict[str, Any]) -> None:
        await self._flush()

    async def chat_status(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "status", "status": event["status"]})
        await self._flush()

    async def chat_typing(self, event: dict[str, Any]) -> None:
        if event.get("who") != "visitor":
            await self.send_json({"type": "typing", "typing": bool(event.get("typing"))})

    async def chat_queue(self, event: dict[str, Any]) -> None:
        return


# --- The secretaries ------------------------------------------------------------------------

@database_sync_to_async
def _watchable(user: Any, chat_id: Any) -> tuple[int, int | None] | None:
    try:
        session = selectors.get_chat_for_user(user, chat_id)
    except DomainError:
        return None
    return session.pk, session.conversation_id


@database_sync_to_async
def _staff_batch(session_id: int, after: int) -> list[dict[str, Any]]:
    session = ChatSession.objects.select_related("account").get(pk=session_id)
    return [message_for_staff(m, session)
            for m in selectors.staff_messages(session, after=after)]


@database_sync_to_async
def _beat(user: Any) -> None:
    services.seat_beat(user=user)


class AgentChatConsumer(_JsonSocket):
    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not can_use_chat_console(user):
            await self.close(code=4403)
            return
        self.user = user
        self.cursors: dict[int, int] = {}
        self.by_conversation: dict[int, int] = {}
        self.joined: set[str] = set()
        self.flushing = asyncio.Lock()
        await self._join(AGENTS_GROUP)
        if can_take_chats(user):
            await _beat(user)
        await self.accept()
        await self.send_json({"type": "hello"})

    async def _join(self, group: str) -> None:
        if group not in self.joined:
            await self.channel_layer.group_add(group, self.channel_name)
            self.joined.add(group)

    async def disconnect(self, code: int) -> None:
        for group in getattr(self, "joined", ()):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        kind = content.get("type")
        if kind == "watch":
            await self._watch(content.get("chat"), content.get("after"))
        elif kind == "typing":
            chat = content.get("chat")
            if isinstance(chat, int) and chat in self.cursors:
                typing = content.get("typing") is True
                await self.channel_layer.group_send(chat_group(chat), {
                    "type": "chat.typing", "chat": chat, "who": "agent", "typing": typing})
                # For a visitor on the polling fallback (views_visitor.messages).
                await cache.aset(typing_key(chat), typing, TYPING_SECONDS)
        elif kind == "beat":
            if can_take_chats(self.user):
                await _beat(self.user)
            await self.send_json({"type": "pong"})
        else:
            await self.send_json({"type": "error", "code": "invalid",
                                  "message": _("Type de message inconnu.")})

    async def _watch(self, chat: Any, after: Any) -> None:
        if isinstance(chat, bool) or not isinstance(chat, int) or not 0 < chat <= MAX_ID:
            await self.send_json({"type": "error", "code": "invalid",
                                  "message": _("Chat inconnu.")})
            return
        found = await _watchable(self.user, chat)
        if found is None:
            await self.send_json({"type": "error", "code": "not_found",
                                  "message": _("Chat inconnu."), "chat": chat})
            return
        session_id, conversation_id = found
        start = after if isinstance(after, int) and 0 <= after <= MAX_ID else 0
        self.cursors[session_id] = max(self.cursors.get(session_id, 0), start)
        await self._join(chat_group(session_id))
        if conversation_id:
            self.by_conversation[conversation_id] = session_id
            await self._join(conversation_group(conversation_id))
        await self._flush(session_id)

    async def _flush(self, session_id: int) -> None:
        async with self.flushing:
            batch = await _staff_batch(session_id, self.cursors.get(session_id, 0))
            for item in batch:
                await self.send_json({"type": "message", "chat": session_id, "message": item})
                self.cursors[session_id] = max(self.cursors[session_id], item["id"])

    async def conversation_message(self, event: dict[str, Any]) -> None:
        session_id = self.by_conversation.get(event.get("conversation"))  # type: ignore[arg-type]
        if session_id is not None:
            await self._flush(session_id)

    async def chat_status(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "status", "chat": event["chat"],
                              "status": event["status"]})
        if event["chat"] in self.cursors:
            # The first message opened the conversation: follow it too.
            found = await _watchable(self.user, event["chat"])
            if found and found[1]:
                self.by_conversation[found[1]] = found[0]
                await self._join(conversation_group(found[1]))
            await self._flush(event["chat"])

    async def chat_queue(self, event: dict[str, Any]) -> None:
        # Only "the queue changed": which chat (maybe of an account this user does not see)
        # is not said; the console re-reads its queue, filtered for its user.
        await self.send_json({"type": "queue"})

    async def chat_typing(self, event: dict[str, Any]) -> None:
        if event.get("who") == "visitor" and event.get("chat") in self.cursors:
            await self.send_json({"type": "typing", "chat": event["chat"],
                                  "typing": bool(event.get("typing"))})
