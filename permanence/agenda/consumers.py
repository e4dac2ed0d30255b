"""The agenda's websocket (/ws/agenda/): "this account's agenda changed" for the pages that
show it. A connection joins the groups of the accounts its user may see that have an
agenda, and nothing else: the message carries only the account id, the page reloads its
grid through the usual access checks."""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from .notify import account_group
from .permissions import can_view
from .selectors import resources_visible_to


def _account_ids(user: Any) -> list[int]:
    return list(resources_visible_to(user).filter(active=True).values_list(
        "account_id", flat=True).distinct()[:2000])


class AgendaConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not can_view(user):
            await self.close(code=4403)
            return
        ids = await database_sync_to_async(_account_ids)(user)
        self.groups_joined = [account_group(pk) for pk in ids]
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def agenda_changed(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "agenda.changed", "account": event.get("account")})
