"""Live updates across processes without Redis: the loopback relay.

Browsers hold their websockets on the web process (uvicorn). Without `REDIS_URL` every process
has its own in-memory channel layer, so a push made by another process (the e-mail gateway, the
worker, the scheduler) would reach nobody. `manage.py runstack` therefore gives those processes
`LIVE_RELAY_URL`, the web process's loopback address; in such a process this layer's
`group_send` hands the push to a background thread that POSTs it, signed, to the web process's
`/internal/live-relay/` endpoint (`relay` below), which sends it to the group locally. Without
`LIVE_RELAY_URL` (the web process itself, tests) the layer is Channels' in-memory layer.

- Signed: `X-Permanence-Relay-Signature` is the HMAC-SHA256 of `"<timestamp>.<body>"` with a
  key derived from SECRET_KEY (shared by every process of one installation); the timestamp
  (`X-Permanence-Relay-Timestamp`) must be within RELAY_TOLERANCE seconds of now.
- Loopback only: the endpoint refuses any client that is not 127.0.0.0/8 or ::1.
- Best effort, like every live push: the page is right on reload. A relay that fails is logged,
  never raised, and never blocks the caller (the sending thread has its own queue).

With `REDIS_URL` set, channels_redis is the layer (several web processes or machines).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import json
import logging
import queue
import threading
import time
import urllib.error
import urllib.request
from typing import Any

from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

logger = logging.getLogger(__name__)

RELAY_PATH = "/internal/live-relay/"
SIGNATURE_HEADER = "X-Permanence-Relay-Signature"
TIMESTAMP_HEADER = "X-Permanence-Relay-Timestamp"
RELAY_TOLERANCE = 30  # seconds, either way (clocks of one machine)
MAX_BODY = 1024 * 1024
MAX_PUSHES = 500  # per request: one sender batch
QUEUE_SIZE = 10_000  # pushes waiting for the web process; beyond, new ones are dropped


def _relay_key() -> bytes:
    return hmac.new(settings.SECRET_KEY.encode(), b"permanence.live-relay",
                    hashlib.sha256).digest()


def relay_signature(body: bytes, timestamp: int) -> str:
    return hmac.new(_relay_key(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def relay_headers(body: bytes, timestamp: int | None = None) -> dict[str, str]:
    stamp = int(time.time()) if timestamp is None else timestamp
    return {TIMESTAMP_HEADER: str(stamp), SIGNATURE_HEADER: relay_signature(body, stamp),
            "Content-Type": "application/json"}


def _host_header() -> str:
    """A Host the web process accepts (ALLOWED_HOSTS), although we dial 127.0.0.1."""
    for host in settings.ALLOWED_HOSTS:
        if host != "*":
            return host.lstrip(".")
    return "127.0.0.1"


class _Sender(threading.Thread):
    """Posts queued pushes to the web process, in batches, off the caller's thread."""

    def __init__(self, url: str, timeout: float) -> None:
        super().__init__(name="live-relay", daemon=True)
        self.url = url
        self.timeout = timeout
        self.pending: queue.Queue[tuple[str, dict[str, Any]]] = queue.Queue(QUEUE_SIZE)
        self.idle = threading.Event()
        self.idle.set()

    def put(self, group: str, message: dict[str, Any]) -> None:
        self.idle.clear()
        try:
            self.pending.put_nowait((group, message))
        except queue.Full:
            logger.warning("live relay queue full: push to %s dropped", group)

    def run(self) -> None:
        while True:
            batch = [self.pending.get()]
            while len(batch) < MAX_PUSHES:
                try:
                    batch.append(self.pending.get_nowait())
                except queue.Empty:
                    break
            self._post(batch)
            if self.pending.empty():
                self.idle.set()

    def _post(self, batch: list[tuple[str, dict[str, Any]]]) -> None:
        try:
            body = json.dumps({"pushes": batch}).encode()
            headers = {**relay_headers(body), "Host": _host_header()}
            request = urllib.request.Request(self.url, data=body, headers=headers,  # noqa: S310
                                             method="POST")
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 (loopback URL from runstack)  # nosec B310
                response.read()
        except Exception as exc:  # best effort: the page is right on reload
            if isinstance(exc, urllib.error.URLError) and isinstance(exc.reason,
                                                                     ConnectionRefusedError):
                # The web process is not listening (yet, at start-up): one line, no trace.
                logger.warning("live relay to %s: the web process is not listening "
                               "(%d push(es) lost)", self.url, len(batch))
                return
            logger.warning("live relay to %s failed (%d push(es) lost)", self.url, len(batch),
                           exc_info=True)


class RelayChannelLayer(InMemoryChannelLayer):
    """Channels' in-memory layer; with `relay_url`, group sends go to the web process."""

    def __init__(self, relay_url: str = "", relay_timeout: float = 3.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.relay_url = relay_url.rstrip("/") + RELAY_PATH if relay_url else ""
        self.relay_timeout = relay_timeout
        self._sender: _Sender | None = None
        self._lock = threading.Lock()
        # The event loop the consumers receive on (the server's): see _send_local.
        self._home: asyncio.AbstractEventLoop | None = None

    async def receive(self, channel: str) -> dict[str, Any]:
        self._home = asyncio.get_running_loop()
        return await super().receive(channel)

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        if not self.relay_url:
            await self._send_local(group, message)
            return
        assert isinstance(message, dict), "Message is not a dict"  # noqa: S101 (as Channels does)  # nosec B101
        self.require_valid_group_name(group)
        self._relay(group, message)

    async def group_send_local(self, group: str, message: dict[str, Any]) -> None:
        """To this process's members of `group` (the relay endpoint's side)."""
        await self._send_local(group, message)

    async def _send_local(self, group: str, message: dict[str, Any]) -> None:
        """The in-memory send, on the consumers' event loop. A thread of its own (the call
        events pump: async_to_sync gives it a loop of its own) would otherwise put the
        message in their queues without waking their loop, which would see it only at its
        next wake-up (uvicorn's: up to 100 ms later)."""
        home = self._home
        if home is not None and home is not asyncio.get_running_loop() and home.is_running():
            done = asyncio.run_coroutine_threadsafe(
                InMemoryChannelLayer.group_send(self, group, message), home)
            await asyncio.wrap_future(done)
            return
        await InMemoryChannelLayer.group_send(self, group, message)

    def send_nowait(self, pushes: list[tuple[str, dict[str, Any]]]) -> bool:
        """Group sends from synchronous code, done here when they need no event loop: queued
        for the relay, or nothing to do because no one in this process listens to those
        groups (a gateway or worker without relay). False: send them through the event loop
        as usual. Spares synchronous callers (the mail gateway answering "250") a round trip
        through an event loop for each push."""
        if self.relay_url:
            for group, message in pushes:
                assert isinstance(message, dict), "Message is not a dict"  # noqa: S101 (as Channels does)  # nosec B101
                self.require_valid_group_name(group)
                self._relay(group, message)
            return True
        # Read without the event loop: a member joining meanwhile would have missed a push
        # sent a moment earlier just the same.
        return not any(self.groups.get(group) for group, _message in pushes)

    def _relay(self, group: str, message: dict[str, Any]) -> None:
        with self._lock:
            if self._sender is None or not self._sender.is_alive():
                self._sender = _Sender(self.relay_url, self.relay_timeout)
                self._sender.start()
            sender = self._sender
        sender.put(group, message)

    def wait_relayed(self, timeout: float = 5.0) -> bool:
        """Until every queued push was posted (tests, and processes about to exit)."""
        sender = self._sender
        return sender is None or sender.idle.wait(timeout)


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def _pushes(body: bytes) -> list[tuple[str, dict[str, Any]]] | None:
    try:
        data = json.loads(body)
    except ValueError:
        return None
    pushes = data.get("pushes") if isinstance(data, dict) else None
    if not isinstance(pushes, list) or len(pushes) > MAX_PUSHES:
        return None
    out = []
    for item in pushes:
        if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], str)
                and isinstance(item[1], dict) and isinstance(item[1].get("type"), str)):
            return None
        out.append((item[0], item[1]))
    return out


@csrf_exempt
async def relay(request: HttpRequest) -> HttpResponse:
    """The web process's side: pushes posted by the other processes of this installation,
    sent to this process's websockets. Loopback, signed and fresh, or refused (403)."""
    if request.method != "POST":
        return HttpResponse(status=405, headers={"Allow": "POST"})
    if not _is_loopback(request.META.get("REMOTE_ADDR", "")):
        return HttpResponse(status=403)
    body = request.body
    stamp = request.headers.get(TIMESTAMP_HEADER, "")
    signature = request.headers.get(SIGNATURE_HEADER, "")
    if (len(body) > MAX_BODY or not stamp.isdigit()
            or abs(time.time() - int(stamp)) > RELAY_TOLERANCE
            or not hmac.compare_digest(signature, relay_signature(body, int(stamp)))):
        return HttpResponse(status=403)
    pushes = _pushes(body)
    if pushes is None:
        return HttpResponse(status=400)
    layer = get_channel_layer()
    if layer is None:
        return HttpResponse(status=204)
    for group, message in pushes:
        try:
            if isinstance(layer, RelayChannelLayer):
                await layer.group_send_local(group, message)
            else:
                await layer.group_send(group, message)
        except Exception:  # one bad push (an invalid group name) does not stop the others
            logger.warning("relayed live update to %r failed", group, exc_info=True)
    return HttpResponse(status=204)
