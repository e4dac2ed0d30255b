"""Pushes to browsers over the channel layer (websockets), for every app: called after
commit only, best effort (a failure is logged, the page is right on reload).

In another process than the web one (the worker, the scheduler, the e-mail gateway) the
embedded layer (core.live_layer.RelayChannelLayer) relays the pushes to the web process
without waiting; with Redis they go through Redis."""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections import deque
from typing import Any

from asgiref.sync import SyncToAsync, async_to_sync
from channels.layers import get_channel_layer

from .live_layer import RelayChannelLayer

logger = logging.getLogger(__name__)

Pushes = list[tuple[str, dict[str, Any]]]
# Pushes waiting for their event loop beyond this (the channel layer unreachable): dropped.
HANDOFF_LIMIT = 10_000


async def _send_all(layer: Any, pushes: Pushes) -> None:
    for group, payload in pushes:
        try:
            await layer.group_send(group, payload)
        except Exception:  # live updates are best effort; the page works on reload
            logger.warning("live update to %s failed", group, exc_info=True)


def send_many(pushes: Pushes) -> None:
    """Several pushes in one hop to the event loop (each hop costs a thread switch)."""
    layer = get_channel_layer()
    if layer is None or not pushes:
        return
    if isinstance(layer, RelayChannelLayer):
        try:
            if layer.send_nowait(pushes):
                return
        except Exception:  # best effort, as below
            logger.warning("live updates to %s failed", [g for g, _p in pushes], exc_info=True)
            return
    loop = _loop_served()
    if loop is not None:
        _handoff(loop).put(layer, pushes)
        return
    try:
        async_to_sync(_send_all)(layer, pushes)
    except Exception:
        logger.warning("live updates to %s failed", [g for g, _p in pushes], exc_info=True)


def send(group: str, payload: dict[str, Any]) -> None:
    send_many([(group, payload)])


# --- From a thread that works for an event loop -------------------------------------------
# In the web process, synchronous code runs in threads for the event loop (sync_to_async: a
# view, a consumer's database call). Waiting there until the channel layer has the pushes
# (several Redis round trips, each needing a turn of a busy event loop) held up whatever
# waits for that thread: a chat message's acknowledgement waited for its own broadcast. The
# pushes are handed to the loop instead, and sent there in the order they were handed over.

def _loop_served() -> asyncio.AbstractEventLoop | None:
    """The running event loop this thread does synchronous work for, if any."""
    local = SyncToAsync.threadlocal
    loop: asyncio.AbstractEventLoop | None = getattr(local, "main_event_loop", None)
    if (loop is None or getattr(local, "main_event_loop_pid", None) != os.getpid()
            or not loop.is_running() or loop.is_closed()):
        return None
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return loop
    return None  # on an event loop's own thread: async_to_sync refuses it as before


class _Handoff:
    """Pushes handed over by threads, sent by one task at a time on the loop, in order."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.pending: deque[tuple[Any, Pushes]] = deque()
        self.lock = threading.Lock()
        self.draining = False
        self.task: asyncio.Task[None] | None = None  # referenced: the loop keeps weak ones

    def put(self, layer: Any, pushes: Pushes) -> None:
        with self.lock:
            if len(self.pending) >= HANDOFF_LIMIT:
                logger.warning("live updates to %s dropped: %d waiting",
                               [g for g, _p in pushes], len(self.pending))
                return
            self.pending.append((layer, pushes))
            if self.draining:
                return
            self.draining = True
        try:
            self.loop.call_soon_threadsafe(self._start)
        except RuntimeError:  # the loop closed meanwhile: nobody left to push to
            with self.lock:
                self.pending.clear()
                self.draining = False

    def _start(self) -> None:
        self.task = self.loop.create_task(self._drain())

    async def _drain(self) -> None:
        while True:
            with self.lock:
                if not self.pending:
                    self.draining = False
                    return
                layer, pushes = self.pending.popleft()
            await _send_all(layer, pushes)


_handoffs: dict[asyncio.AbstractEventLoop, _Handoff] = {}
_handoffs_lock = threading.Lock()


def _handoff(loop: asyncio.AbstractEventLoop) -> _Handoff:
    with _handoffs_lock:
        found = _handoffs.get(loop)
        if found is None:
            # Loops that are gone (tests run one per scenario) are forgotten.
            for gone in [k for k in _handoffs if k.is_closed()]:
                del _handoffs[gone]
            found = _handoffs[loop] = _Handoff(loop)
        return found

