"""Websockets of the inbox: list refreshes and, per conversation, who is viewing/replying."""

from __future__ import annotations

import time
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.core.cache import cache

from permanence.accounts.permissions import Actor, is_staff_member

from .live import INBOX_GROUP, conversation_group
from .models import Message
from .selectors import conversations_visible_to

PRESENCE_TTL = 120  # seconds; a viewer whose socket died silently disappears after this


def _presence_key(conversation_id: int) -> str:
    return f"presence:{conversation_id}"


def _is_staff(user: Actor | None) -> bool:

    return bool(user and user.is_authenticated and is_staff_member(user))


class InboxConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        if not _is_staff(self.scope.get("user")):
            await self.close(code=4403)
            return
        await self.channel_layer.group_add(INBOX_GROUP, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(INBOX_GROUP, self.channel_name)

    async def inbox_changed(self, event: dict[str, Any]) -> None:
        # Only tell users who may see that conversation.
        if await _can_see(self.scope["user"], event["conversation"]):
            await self.send_json({"type": "inbox.changed", "conversation": event["conversation"],
                                  "reason": event.get("reason", "")})


@database_sync_to_async
def _can_see(user: Actor, conversation_id: int) -> bool:

    return conversations_visible_to(user).filter(pk=conversation_id).exists()


@database_sync_to_async
def _direction(message_id: int) -> str:

    return Message.objects.filter(pk=message_id).values_list("direction", flat=True).first() or ""


class ConversationConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        self.conversation_id = int(self.scope["url_route"]["kwargs"]["pk"])
        if not _is_staff(user) or not await _can_see(user, self.conversation_id):
            await self.close(code=4403)
            return
        self.group = conversation_group(self.conversation_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self._update_presence(typing=False)

    async def disconnect(self, code: int) -> None:
        if not hasattr(self, "group"):
            return
        key = _presence_key(self.conversation_id)
        users = await cache.aget(key) or {}
        users.pop(str(self.scope["user"].pk), None)
        await cache.aset(key, users, PRESENCE_TTL)
        await self.channel_layer.group_discard(self.group, self.channel_name)
        await self._broadcast(users)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "typing":
            await self._update_presence(typing=bool(content.get("typing")))

    async def _update_presence(self, *, typing: bool) -> None:
        user = self.scope["user"]
        key = _presence_key(self.conversation_id)
        users = await cache.aget(key) or {}
        now = time.time()
        users = {k: v for k, v in users.items() if now - v["seen"] < PRESENCE_TTL}
        users[str(user.pk)] = {"id": user.pk, "name": user.full_name or user.email,
                               "typing": typing, "seen": now}
        await cache.aset(key, users, PRESENCE_TTL)
        await self._broadcast(users)

    async def _broadcast(self, users: dict[str, Any]) -> None:
        await self.channel_layer.group_send(self.group, {
            "type": "presence.update",
            "users": [{"id": u["id"], "name": u["name"], "typing": u["typing"]}
                      for u in users.values()]})

    async def presence_update(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "presence", "users": event["users"]})

    async def conversation_message(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "message", "message": event["message"],
                              "direction": await _direction(event["message"])})

    async def conversation_changed(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "changed", "reason": event.get("reason", "")})
