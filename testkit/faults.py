"""Faults made real, for the tests of behaviour under faults (tests/faults/): a Redis server
of the test's own that can be killed and started again, a TCP proxy in front of PostgreSQL
that can be cut and restored, an SMTP server that stalls, and a browser-like HTTP client
(cookies, CSRF) that reports status codes instead of raising on them.

Nothing here touches the machine's own services: each test starts its own on free ports.
"""

from __future__ import annotations

import asyncio
import http.cookiejar
import re
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

from .stack import free_port, wait_until

# --- Redis ------------------------------------------------------------------------------------


@dataclass
class RedisServer:
    """A redis-server of the test's own (nothing kept on disk); `stop()` kills it, `start()`
    brings it back on the same port."""

    port: int
    folder: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed (Debian package redis-server)")
        self.folder.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(  # noqa: S603
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(self.answers, 20, f"redis-server on port {self.port}")

    def answers(self) -> bool:
        with socket.create_connection(("127.0.0.1", self.port), timeout=1) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None


@contextmanager
def redis_server(folder: Path) -> Iterator[RedisServer]:
    server = RedisServer(free_port(), folder)
    server.start()
    try:
        yield server
    finally:
        server.stop()


# --- A TCP proxy that can be cut ----------------------------------------------------------------


class TcpProxy:
    """Forwards 127.0.0.1:<port> to a target, on its own thread and event loop. `cut()` drops
    every open connection and refuses new ones (the server is gone, as when PostgreSQL
    restarts); `restore()` accepts them again."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self.loop = asyncio.new_event_loop()
        self.server: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> TcpProxy:
        self.thread.start()
        self.restore()
        return self

    def __exit__(self, *exc: object) -> None:
        self.cut()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)

    def _run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=10)

    def restore(self) -> None:
        async def listen() -> None:
            if self.server is None:
                self.server = await asyncio.start_server(self._client, "127.0.0.1", self.port,
                                                         reuse_address=True)
        self._run(listen())

    def cut(self) -> None:
        async def close() -> None:
            if self.server is not None:
                self.server.close()
                self.server = None
            for writer in list(self.writers):
                writer.transport.abort()
            self.writers.clear()
        self._run(close())

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self.writers |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (OSError, asyncio.CancelledError):
                pass
            finally:
                dst.transport.abort()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self.writers -= {writer, up_writer}


# --- An SMTP server that can stall --------------------------------------------------------------


@dataclass
class StallingSmtp:
    """A minimal SMTP server (enough for Django's SMTP backend) on a thread. While `stall` is
    set, it takes a whole message (DATA up to the final dot) and then never answers: the
    sender hangs where a slow relay would leave it, before the message is accepted. A message
    counts as delivered only once its final `250` is sent, as a real server commits it."""

    port: int = field(default_factory=free_port)
    stall: threading.Event = field(default_factory=threading.Event)
    delivered: list[Message] = field(default_factory=list)
    stalled: threading.Event = field(default_factory=threading.Event)
    _sock: socket.socket | None = None

    def __enter__(self) -> StallingSmtp:
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", self.port))
        self._sock.listen()
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._sock is not None:
            with suppress(OSError):
                self._sock.close()

    def _accept(self) -> None:
        while self._sock is not None:
            try:
                conn, _addr = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._session, args=(conn,), daemon=True).start()

    def _session(self, conn: socket.socket) -> None:
        with conn, conn.makefile("rb") as lines:
            def say(text: str) -> None:
                conn.sendall(text.encode() + b"\r\n")

            try:
                say("220 stalling.test ESMTP")
                while line := lines.readline():
                    verb = line.split(b" ", 1)[0].strip().upper()
                    if verb in (b"EHLO", b"HELO"):
                        say("250 stalling.test")
                    elif verb == b"DATA":
                        say("354 go ahead")
                        body = b""
                        while (chunk := lines.readline()) not in (b".\r\n", b""):
                            body += chunk[1:] if chunk.startswith(b"..") else chunk
                        if self.stall.is_set():
                            self.stalled.set()
                            lines.read()  # until the sender goes away: nothing delivered
                            return
                        self.delivered.append(message_from_bytes(body))
                        say("250 queued")
                    elif verb == b"QUIT":
                        say("221 bye")
                        return
                    else:  # MAIL, RCPT, RSET, NOOP
                        say("250 ok")
            except OSError:
                return


# --- A browser-like HTTP client -----------------------------------------------------------------


@dataclass
class Reply:
    status: int
    body: str
    headers: dict[str, str]  # names in lower case


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class Browser:
    """Cookies kept, CSRF token sent with every POST, redirects not followed (their status is
    what the tests look at), and any status returned rather than raised."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect())
        self.statuses: list[tuple[str, str, int]] = []

    def cookie(self, name: str) -> str:
        return next((c.value or "" for c in self.jar if c.name == name), "")

    def request(self, method: str, path: str, *, form: dict[str, str] | None = None,
                json_body: bytes | None = None, headers: dict[str, str] | None = None,
                timeout: float = 30) -> Reply:
        data = None
        sent = dict(headers or {})
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            sent.setdefault("Content-Type", "application/x-www-form-urlencoded")
        elif json_body is not None:
            data = json_body
            sent.setdefault("Content-Type", "application/json")
        if method == "POST" and self.cookie("csrftoken"):
            sent.setdefault("X-CSRFToken", self.cookie("csrftoken"))
        request = urllib.request.Request(self.base + path, data=data, method=method,  # noqa: S310
                                         headers=sent)
        try:
            with self.opener.open(request, timeout=timeout) as response:
                reply = Reply(response.status, response.read().decode(errors="replace"),
                              {k.lower(): v for k, v in response.headers.items()})
        except urllib.error.HTTPError as error:
            reply = Reply(error.code, error.read().decode(errors="replace"),
                          {k.lower(): v for k, v in error.headers.items()})
        self.statuses.append((method, path, reply.status))
        return reply

    def get(self, path: str, **kwargs: Any) -> Reply:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, form: dict[str, str] | None = None, **kwargs: Any) -> Reply:
        return self.request("POST", path, form=form, **kwargs)

    def login(self, email: str, password: str) -> Reply:
        self.get("/connexion/")
        return self.post("/connexion/", {"username": email, "password": password,
                                         "csrfmiddlewaretoken": self.cookie("csrftoken")})

    def server_errors(self) -> list[tuple[str, str, int]]:
        return [s for s in self.statuses if s[2] >= 500]


def hidden_csrf(html: str) -> str:
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    return found.group(1) if found else ""


def wait_for(check: Any, timeout: float, what: str) -> Any:
    """Poll `check` until it returns something true (generous timeouts: a 2-core machine);
    a connection refused counts as not yet."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
        except OSError as exc:
            last = exc
        if last and not isinstance(last, OSError):
            return last
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")
