"""Websockets when the channel layer is unreachable (Redis down): a clear close, not a crash.

With channels_redis, a consumer joins its groups and waits for its pushes through Redis. Redis
down, those calls raise: the consumer dies, and the browser sees a failed handshake (HTTP 500)
or an abnormal close — and keeps retrying blindly. This guard, around every websocket route,
turns that into a normal close with code 4503 ("live updates unavailable"): the chat widget
and console then poll over HTTP at once (livechat's widget.js and console.js), the other live
pages reconnect with back-off as they do after any close, and nothing shows a server error.
Pages and forms never depend on the layer (pushes are best effort, core/live_push.py)."""

from __future__ import annotations

import logging
from typing import Any

from django.db import InterfaceError, OperationalError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

LIVE_UNAVAILABLE = 4503
# Redis down, or the database (a consumer's queries): the page's HTTP fallback takes over.
UNAVAILABLE = (RedisConnectionError, RedisTimeoutError, OSError, OperationalError,
               InterfaceError)


class LiveUnavailableGuard:
    """ASGI middleware for the websocket protocol (see the module's docstring)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        state = {"accepted": False, "closed": False}

        async def tracked(message: dict[str, Any]) -> None:
            kind = message.get("type")
            if kind == "websocket.accept":
                state["accepted"] = True
            elif kind == "websocket.close":
                state["closed"] = True
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except UNAVAILABLE as exc:
            if state["closed"]:
                return
            logger.warning("websocket %s closed with %s: live layer unavailable (%s)",
                           scope.get("path"), LIVE_UNAVAILABLE, exc)
            try:
                if not state["accepted"]:
                    await send({"type": "websocket.accept"})
                await send({"type": "websocket.close", "code": LIVE_UNAVAILABLE})
            except Exception:  # the client is gone already: nothing left to tell it
                logger.debug("websocket %s gone before its close", scope.get("path"))
