"""The desk's websocket (/ws/desk/): screen pops for the agent, the board for supervisors.

Each connection joins its user's own group (`desk-agent-<id>`): a call's pop is sent there
and nowhere else. Supervisors also join the board group (agents' states)."""

from __future__ import annotations

from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from .live import BOARD_GROUP, agent_group
from .permissions import can_supervise_desk, can_take_calls


class DeskConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not (
                can_take_calls(user) or can_supervise_desk(user)):
            await self.close(code=4403)
            return
        self.groups_joined = [agent_group(user.pk)]
        if can_supervise_desk(user):
            self.groups_joined.append(BOARD_GROUP)
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    async def desk_pop(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "call.ringing", **event.get("pop", {})})

    async def desk_agent(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "agent.state", "user": event.get("user"),
                              "status": event.get("status")})
