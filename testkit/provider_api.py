"""A local HTTP server standing in for a provider's API (Twilio, Brevo): the only thing mocked
is the HTTP boundary. Requests are recorded as they arrive on the wire; POSTs are answered with
the queued (status, JSON) replies, in order."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class StandIn:
    """A provider API on 127.0.0.1: answers the queued (status, JSON) replies in order."""

    url: str
    requests: list[Recorded] = field(default_factory=list)
    replies: list[tuple[int, dict[str, Any]]] = field(default_factory=list)


@contextmanager
def provider_standin() -> Iterator[StandIn]:
    stand_in = StandIn(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            stand_in.requests.append(Recorded(
                "POST", self.path, {k.lower(): v for k, v in self.headers.items()},
                self.rfile.read(length)))
            status, payload = (stand_in.replies.pop(0) if stand_in.replies
                               else (500, {"message": "no reply queued"}))
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    stand_in.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield stand_in
    finally:
        server.shutdown()
        server.server_close()
