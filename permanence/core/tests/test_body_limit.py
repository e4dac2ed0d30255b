"""Request bodies over REQUEST_MAX_BYTES are refused with 413 before they are received,
through the real ASGI application (what uvicorn calls)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from permanence.asgi import application


def _call(path: str, headers: list[tuple[bytes, bytes]], chunks: list[bytes]) -> tuple[
        int, bytes, int]:
    """(status, body, body chunks the application asked for)."""
    sent: list[dict[str, Any]] = []
    asked = 0

    async def receive() -> dict[str, Any]:
        nonlocal asked
        if asked < len(chunks):
            asked += 1
            return {"type": "http.request", "body": chunks[asked - 1],
                    "more_body": asked < len(chunks)}
        await asyncio.sleep(3600)  # the client waits for the answer
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "POST", "scheme": "http", "path": path, "raw_path": path.encode(),
             "query_string": b"", "root_path": "", "headers": [(b"host", b"testserver"),
                                                               *headers],
             "client": ("127.0.0.1", 50000), "server": ("testserver", 80)}
    asyncio.run(asyncio.wait_for(application(scope, receive, send), 30))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], body, asked


def test_a_body_announced_too_large_is_refused_before_it_is_read(settings: Any) -> None:
    settings.REQUEST_MAX_BYTES = 1024 * 1024
    status, body, asked = _call("/api/v1/conversations", [(b"content-length", b"5000000000")],
                                [b"x" * 1024])
    assert status == 413 and asked == 0  # not one byte of the body was read
    assert json.loads(body)["code"] == "too_large"
    status, body, asked = _call("/contact/", [(b"content-length", b"2000000")], [b"x"])
    assert status == 413 and asked == 0 and "trop volumineuse" in body.decode()


def test_a_chunked_body_is_cut_at_the_limit(settings: Any) -> None:
    settings.REQUEST_MAX_BYTES = 1024 * 1024
    chunks = [b"x" * (256 * 1024)] * 10  # 2.5 Mo, no Content-Length
    status, _body, asked = _call("/api/v1/conversations", [], chunks)
    assert status == 413 and asked == 5  # stopped at the first chunk past 1 Mo


@pytest.mark.django_db(transaction=True)
def test_a_body_within_the_limit_reaches_the_application(settings: Any) -> None:
    settings.REQUEST_MAX_BYTES = 1024 * 1024
    status, _body, _asked = _call("/api/v1/conversations",
                                  [(b"content-length", b"2"),
                                   (b"content-type", b"application/json")], [b"{}"])
    assert status == 403  # the API's own answer (no token, no CSRF), not the limit's
