"""core/provider_http.py against a local HTTP server: the status and the JSON answer come
back whatever the status; no answer at all is ProviderUnreachable; proxies from the
environment are not used."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from permanence.core.provider_http import (
    ProviderUnreachable,
    basic_auth,
    form_body,
    json_body,
    provider_json,
)

ANSWERS = {"/ok": (201, b'{"sid": "CA1"}'), "/refused": (400, b'{"code": 21211}'),
           "/html": (502, b"<html>Bad gateway</html>"), "/list": (200, b"[1, 2]"),
           "/empty": (204, b"")}


class _Provider(BaseHTTPRequestHandler):
    seen: list[dict[str, Any]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.seen.append({"path": self.path, "method": self.command, "body": body,
                          "headers": dict(self.headers)})
        status, answer = ANSWERS[self.path]
        self.send_response(status)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    do_GET = do_POST

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def provider() -> Iterator[str]:
    _Provider.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Provider)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_form_post_with_basic_auth(provider: str, monkeypatch: Any) -> None:
    # A proxy from the environment would swallow the call (and the credentials).
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    body, content_type = form_body({"To": "+33612345678", "Body": "é&="})
    status, data = provider_json("POST", f"{provider}/ok", body=body, timeout=5,
                                 headers=basic_auth("AC1", "secret") | content_type)
    assert (status, data) == (201, {"sid": "CA1"})
    seen = _Provider.seen[0]
    assert seen["headers"]["Authorization"] == "Basic QUMxOnNlY3JldA=="
    assert seen["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    assert seen["body"] == b"To=%2B33612345678&Body=%C3%A9%26%3D"


def test_a_json_post(provider: str) -> None:
    body, content_type = json_body({"content": "Bonjour"})
    provider_json("POST", f"{provider}/ok", body=body, headers={"api-key": "k"} | content_type,
                  timeout=5)
    seen = _Provider.seen[0]
    assert json.loads(seen["body"]) == {"content": "Bonjour"}
    assert seen["headers"]["Content-Type"] == "application/json"
    assert seen["headers"]["Api-Key"] == "k"


@pytest.mark.parametrize(("path", "expected"), [
    ("/refused", (400, {"code": 21211})), ("/html", (502, {})), ("/list", (200, {})),
    ("/empty", (204, {}))])
def test_any_answer_is_a_status_and_a_dict(provider: str, path: str,
                                           expected: tuple[int, dict[str, Any]]) -> None:
    assert provider_json("GET", provider + path, body=None, headers={}, timeout=5) == expected


def test_no_answer_is_provider_unreachable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed once the block ends: nobody listens there
    with pytest.raises(ProviderUnreachable):
        provider_json("GET", f"http://127.0.0.1:{port}/", body=None, headers={}, timeout=5)
    with pytest.raises(ProviderUnreachable):
        provider_json("GET", "pas une url", body=None, headers={}, timeout=5)
