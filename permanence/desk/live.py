"""Live pushes of the desk (websocket /ws/desk/, desk.consumers). Called after commit only.

- The screen pop: `call.ringing` to one agent's group (`desk-agent-<user id>`), never to a
  group everyone joins, so that only the agents the call is for see its caller.
- The supervisors' board: `agents.changed` to `desk-board` when an agent's state changes.

Pushes go through the channel layer: in another process than the web one (the scheduler's
sweep, the AMI listener) core.live_layer relays them to the web process. Best effort, like
every live push: a failure is logged, the page is right on reload."""

from __future__ import annotations

from typing import Any

from permanence.core.live_push import send_many

BOARD_GROUP = "desk-board"


def agent_group(user_id: int) -> str:
    return f"desk-agent-{user_id}"


def screen_pop(user_ids: list[int], pop: dict[str, Any]) -> None:
    """The call rings for these agents: their screens open it (desk/static/desk/pop.js)."""
    send_many([(agent_group(uid), {"type": "desk.pop", "pop": pop}) for uid in user_ids])


def agent_changed(user_id: int, status: str) -> None:
    """An agent's state changed: the board refreshes; the agent's own switcher follows."""
    payload = {"type": "desk.agent", "user": user_id, "status": status}
    send_many([(BOARD_GROUP, payload), (agent_group(user_id), payload)])
