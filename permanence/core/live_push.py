"""Pushes to browsers over the channel layer (websockets), for every app: called after
commit only, best effort (a failure is logged, the page is right on reload).

In another process than the web one (the worker, the scheduler, the e-mail gateway) the
embedded layer (core.live_layer.RelayChannelLayer) relays the pushes to the web process
without waiting; with Redis they go through Redis."""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from .live_layer import RelayChannelLayer

logger = logging.getLogger(__name__)


def send_many(pushes: list[tuple[str, dict[str, Any]]]) -> None:
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

    async def send_all() -> None:
        for group, payload in pushes:
            try:
                await layer.group_send(group, payload)
            except Exception:  # live updates are best effort; the page works on reload
                logger.warning("live update to %s failed", group, exc_info=True)

    try:
        async_to_sync(send_all)()
    except Exception:
        logger.warning("live updates to %s failed", [g for g, _p in pushes], exc_info=True)


def send(group: str, payload: dict[str, Any]) -> None:
    send_many([(group, payload)])
