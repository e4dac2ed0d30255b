"""Live pushes from the web process's threads (core/live_push.py): handed to the event loop
those threads work for, in order, without the thread waiting for the channel layer."""

from __future__ import annotations

import asyncio
from typing import Any

from asgiref.sync import async_to_sync, sync_to_async

from permanence.core import live_push


def test_a_thread_working_for_the_event_loop_hands_its_pushes_over_in_order(
        monkeypatch: Any) -> None:
    sent: list[int] = []
    failing = {2}

    async def scenario() -> str:
        # The layer delivers nothing until the thread has returned: a thread that waited
        # for its pushes would never return (the wait_for below would time out).
        delivered = asyncio.Event()

        class Layer:
            async def group_send(self, group: str, payload: dict[str, Any]) -> None:
                await delivered.wait()
                if payload["n"] in failing:
                    raise ConnectionError("redis down")
                sent.append(payload["n"])

        monkeypatch.setattr(live_push, "get_channel_layer", Layer)

        def write_and_push() -> str:
            for n in range(3):
                live_push.send_many([("g", {"n": n}), ("g", {"n": n + 10})])
            return "returned"

        returned = await asyncio.wait_for(
            sync_to_async(write_and_push, thread_sensitive=False)(), timeout=5)
        delivered.set()
        for _ in range(200):
            if len(sent) == 5:
                break
            await asyncio.sleep(0.01)
        return returned

    assert async_to_sync(scenario)() == "returned"
    # In the order handed over; one failing push (best effort) does not stop the others.
    assert sent == [0, 10, 1, 11, 12]


def test_plain_synchronous_code_still_sends_before_returning(monkeypatch: Any) -> None:
    sent: list[str] = []

    class Layer:
        async def group_send(self, group: str, payload: dict[str, Any]) -> None:
            sent.append(group)

    monkeypatch.setattr(live_push, "get_channel_layer", Layer)
    live_push.send_many([("a", {"type": "x"}), ("b", {"type": "x"})])
    assert sent == ["a", "b"]
