"""Live pushes of the desk (websocket /ws/desk/, desk.consumers). Called after commit only.

- The screen pop: `call.ringing` to one agent's group (`desk-agent-<user id>`), never to a
  group everyone joins, so that only the agents the call is for see its caller.
- The supervisors' board: `agents.changed` to `desk-board` when an agent's state changes.

Pushes go through the channel layer: in another process than the web one (the scheduler's
sweep, the AMI listener) core.live_layer relays them to the web process. Best effort, like
every live push: a failure is logged, the page is right on reload."""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)

BOARD_GROUP = "desk-board"


def agent_group(user_id: int) -> str:
    return f"desk-agent-{user_id}"


def _send_many(pushes: list[tuple[str, dict[str, Any]]]) -> None:
    layer = get_channel_layer()
    if layer is None or not pushes:
        return

    async def send_all() -> None:
        for group, payload in pushes:
            try:
                await layer.group_send(group, payload)
            except Exception:  # best effort: the page is right on reload
                logger.warning("desk live push to %s failed", group, exc_info=True)

    try:
        async_to_sync(send_all)()
    except Exception:
        logger.warning("desk live pushes failed", exc_info=True)


def screen_pop(user_ids: list[int], pop: dict[str, Any]) -> None:
    """The call rings for these agents: their screens open it (desk/static/desk/pop.js)."""
    _send_many([(agent_group(uid), {"type": "desk.pop", "pop": pop}) for uid in user_ids])


def agent_changed(user_id: int, status: str) -> None:
    """An agent's state changed: the board refreshes; the agent's own switcher follows."""
    payload = {"type": "desk.agent", "user": user_id, "status": status}
    _send_many([(BOARD_GROUP, payload), (agent_group(user_id), payload)])
