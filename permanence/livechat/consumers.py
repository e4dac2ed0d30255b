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
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
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

# The chat's database work runs on threads of its own. By default (thread-sensitive) every
# consumer's synchronous code in a web process runs on one single thread, one call after the
# other: 200 visitors queued behind each other's queries. Two pools: the bot's answers on
# their own, so that a visitor's message never waits behind other chats' bot answers to be
# stored and acknowledged. Each call takes a connection and closes it when it returns
# (database_sync_to_async: close_old_connections; on PostgreSQL the pool takes it back), so
# the chat holds at most DB_THREADS + BOT_THREADS connections at once (DB_POOL_MAX: 10).
DB_THREADS = 4
BOT_THREADS = 2
_executor = ThreadPoolExecutor(max_workers=DB_THREADS, thread_name_prefix="chat-db")
_bot_executor = ThreadPoolExecutor(max_workers=BOT_THREADS, thread_name_prefix="chat-bot")


def _db(func: Callable[..., Any]) -> Any:
    return database_sync_to_async(func, thread_sensitive=False, executor=_executor)


_bot = database_sync_to_async(visitor_ops.bot, thread_sensitive=False, executor=_bot_executor)


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

@_db
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


_conversation_of = _db(selectors.conversation_of)


@_db
def _visitor_batch(conversation_id: int, session: ChatSession,
                   after: int) -> list[dict[str, Any]]:
    return [message_for_visitor(m, session)
            for m in selectors.visitor_messages_in(conversation_id, after=after)]


def _announced(event: dict[str, Any], cursor: int) -> bool:
    """A conversation.message event for a message this socket has already sent."""
    message = event.get("message")
    return isinstance(message, int) and message <= cursor


class VisitorChatConsumer(_JsonSocket):
    async def connect(self) -> None:
        token = str(self.scope["url_route"]["kwargs"].get("token", ""))
        session = await _visitor_session(token, origins.scope_origin(self.scope))
        if session is None:
            await self.close(code=4403)
            return
        # Kept for the payloads (the visitor's name); the status is read where it matters.
        self.session = session
        self.session_id = session.pk
        self.conversation_id: int | None = None
        self.cursor = _after(self.scope)
        self.joined: set[str] = set()
        self.flushing = asyncio.Lock()
        await self._join(chat_group(session.pk))
        if session.conversation_id is not None:  # set once, never changed: no race
            await self._follow(session.conversation_id)
        await self.accept()
        await self.send_json({"type": "hello", "status": session.status})
        await self._flush()

    async def _join(self, group: str) -> None:
        if group not in self.joined:
            await self.channel_layer.group_add(group, self.channel_name)
            self.joined.add(group)

    async def _follow(self, conversation_id: int) -> None:
        await self._join(conversation_group(conversation_id))
        self.conversation_id = conversation_id

    async def disconnect(self, code: int) -> None:
        for group in getattr(self, "joined", ()):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def _flush(self) -> None:
        """Every message after the cursor, once, in order. Groups are joined before the
        database is read, so whatever is committed after the read is announced to us."""
        async with self.flushing:
            if self.conversation_id is None:
                # The chat's group is joined (connect): an opening committed from now on
                # comes as chat.opened; one committed before is read here.
                conversation_id = await _conversation_of(self.session_id)
                if conversation_id is None:
                    return
                await self._follow(conversation_id)
            assert self.conversation_id is not None  # noqa: S101 (followed above)  # nosec B101
            batch = await _visitor_batch(self.conversation_id, self.session, self.cursor)
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
                await _db(visitor_ops.action)(self.session_id, content)
                await self._flush()
            elif kind == "ping":
                await self.send_json({"type": "pong"})
            else:
                raise DomainError("invalid", _("Type de message inconnu."), status=400)
        except DomainError as exc:
            await self.send_json(_error(exc, client_id=content.get("client_id")))

    async def _message(self, content: dict[str, Any]) -> None:
        message, created = await _db(visitor_ops.send)(
            self.session_id, content.get("client_id"), content.get("body"))
        # Committed: now acknowledged and shown; the bot answers after that.
        await self.send_json({"type": "ack", "client_id": content.get("client_id"),
                              "id": message.pk})
        await self._flush()
        if created:
            await _bot(self.session_id, message)
            await self._flush()

    async def conversation_message(self, event: dict[str, Any]) -> None:
        if not _announced(event, self.cursor):
            await self._flush()

    async def chat_opened(self, event: dict[str, Any]) -> None:
        if self.conversation_id is None:
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

@_db
def _watchable(user: Any, chat_id: Any) -> ChatSession | None:
    try:
        return selectors.get_chat_for_user(user, chat_id)
    except DomainError:
        return None


@_db
def _staff_batch(conversation_id: int, session: ChatSession,
                 after: int) -> list[dict[str, Any]]:
    return [message_for_staff(m, session)
            for m in selectors.staff_messages_in(conversation_id, after=after)]


@_db
def _beat(user: Any) -> None:
    services.seat_beat(user=user)


class AgentChatConsumer(_JsonSocket):
    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not can_use_chat_console(user):
            await self.close(code=4403)
            return
        self.user = user
        # Per watched chat: the last message id sent, the session (for the payloads), its
        # conversation once it has one; and back from a conversation to its chat.
        self.cursors: dict[int, int] = {}
        self.sessions: dict[int, ChatSession] = {}
        self.conversations: dict[int, int] = {}
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

    async def _follow(self, session_id: int, conversation_id: int) -> None:
        await self._join(conversation_group(conversation_id))
        self.conversations[session_id] = conversation_id
        self.by_conversation[conversation_id] = session_id

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
        session = await _watchable(self.user, chat)
        if session is None:
            await self.send_json({"type": "error", "code": "not_found",
                                  "message": _("Chat inconnu."), "chat": chat})
            return
        session_id = session.pk
        start = after if isinstance(after, int) and 0 <= after <= MAX_ID else 0
        self.cursors[session_id] = max(self.cursors.get(session_id, 0), start)
        self.sessions[session_id] = session
        # Groups before reads: whatever is committed after a read is announced to us.
        await self._join(chat_group(session_id))
        conversation_id = session.conversation_id
        if conversation_id is None:
            # Read again now that the chat's group is joined: an opening committed from now
            # on comes as chat.opened, one committed since the first read is found here.
            conversation_id = await _conversation_of(session_id)
        if conversation_id is not None:
            await self._follow(session_id, conversation_id)
        await self._flush(session_id)

    async def _flush(self, session_id: int) -> None:
        conversation_id = self.conversations.get(session_id)
        if conversation_id is None:
            return
        async with self.flushing:
            batch = await _staff_batch(conversation_id, self.sessions[session_id],
                                       self.cursors.get(session_id, 0))
            for item in batch:
                await self.send_json({"type": "message", "chat": session_id, "message": item})
                self.cursors[session_id] = max(self.cursors[session_id], item["id"])

    async def conversation_message(self, event: dict[str, Any]) -> None:
        session_id = self.by_conversation.get(event.get("conversation"))  # type: ignore[arg-type]
        if session_id is not None and not _announced(event, self.cursors[session_id]):
            await self._flush(session_id)

    async def chat_opened(self, event: dict[str, Any]) -> None:
        session_id = event["chat"]
        if session_id in self.cursors and session_id not in self.conversations:
            await self._follow(session_id, event["conversation"])
            await self._flush(session_id)

    async def chat_status(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "status", "chat": event["chat"],
                              "status": event["status"]})
        if event["chat"] in self.cursors:
            await self._flush(event["chat"])

    async def chat_queue(self, event: dict[str, Any]) -> None:
        # Only "the queue changed": which chat (maybe of an account this user does not see)
        # is not said; the console re-reads its queue, filtered for its user.
        await self.send_json({"type": "queue"})

    async def chat_typing(self, event: dict[str, Any]) -> None:
        if event.get("who") == "visitor" and event.get("chat") in self.cursors:
            await self.send_json({"type": "typing", "chat": event["chat"],
                                  "typing": bool(event.get("typing"))})
