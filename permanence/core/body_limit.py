"""The size of a request body, refused before it is received: 413 as soon as the headers
announce more than REQUEST_MAX_BYTES. Django's ASGI handler reads a whole body into a spooled
file before any middleware runs, so a multi-gigabyte POST would fill the disk before the
upload checks (core/uploads.py) could refuse it. A body sent without Content-Length (chunked)
is counted as it arrives and cut at the same limit. A reverse proxy in front should enforce
its own limit too (README › Deploying)."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings

Scope = dict[str, Any]


def _limit() -> int:
    return int(getattr(settings, "REQUEST_MAX_BYTES", 64 * 1024 * 1024))


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers") or []:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _refuse(scope: Scope, send: Any) -> None:
    megabytes = _limit() // (1024 * 1024)
    message = f"Requête trop volumineuse ({megabytes} Mo au plus)."
    if str(scope.get("path", "")).startswith(("/api/", "/chat/api/")):
        body = json.dumps({"code": "too_large", "message": message, "errors": {}}).encode()
        kind = b"application/json"
    else:
        body = f"<!doctype html><html lang=\"fr\"><title>413</title><p>{message}</p>".encode()
        kind = b"text/html; charset=utf-8"
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", kind), (b"connection", b"close"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class BodyTooLarge(Exception):
    pass


class RequestBodyLimit:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        limit = _limit()
        declared = _declared_length(scope)
        if declared is not None and declared > limit:
            await _refuse(scope, send)
            return
        received = 0

        async def counted() -> Any:
            nonlocal received
            message = await receive()
            if message.get("type") == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge()
            return message

        try:
            await self.app(scope, counted, send)
        except BodyTooLarge:
            # Nothing was answered yet: Django reads the whole body before it responds.
            await _refuse(scope, send)
