"""A real HTTP receiver on 127.0.0.1 (http.server in a thread) for webhook tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend",
                        "QUEUES": ["default", "email"], "ENQUEUE_ON_COMMIT": True}}


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    host: str = "127.0.0.1"
    port: int = 0
    statuses: list[int] = field(default_factory=list)  # consumed one per request
    default_status: int = 200
    delay: float = 0.0
    requests: list[Received] = field(default_factory=list)

    def url(self, path: str = "/hook", *, host: str | None = None) -> str:
        return f"http://{host or self.host}:{self.port}{path}"


class _Handler(BaseHTTPRequestHandler):
    server: Any

    def do_POST(self) -> None:
        receiver: Receiver = self.server.receiver
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        receiver.requests.append(Received(self.path, dict(self.headers.items()), body))
        if receiver.delay:
            time.sleep(receiver.delay)
        status = receiver.statuses.pop(0) if receiver.statuses else receiver.default_status
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(b"ok" if status < 300 else b"erreur")

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    rec = Receiver(port=server.server_address[1])
    server.receiver = rec  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield rec
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def db_tasks(settings: Any, db: Any) -> None:
    """Enqueued tasks are stored in the database (as in production) and run by db_worker."""
    settings.TASKS = DB_TASKS
