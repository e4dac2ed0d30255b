"""The loopback relay of live pushes (core/live_layer.py): a process with LIVE_RELAY_URL posts
its group sends, signed, to the web process, which sends them to its own websockets."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.test import Client

from permanence.core import live_layer
from permanence.core.live_layer import RELAY_PATH, RelayChannelLayer, relay_headers


def _body(*pushes: tuple[str, dict[str, Any]]) -> bytes:
    return json.dumps({"pushes": [list(p) for p in pushes]}).encode()


def _post(body: bytes, headers: dict[str, str] | None = None, *,
          remote: str = "127.0.0.1") -> Any:
    extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in (headers or {}).items()
             if k != "Content-Type"}
    return Client().post(RELAY_PATH, body, content_type="application/json",
                         REMOTE_ADDR=remote, **extra)


def _member_of(group: str) -> tuple[Any, str]:
    layer = get_channel_layer()

    async def join() -> str:
        channel = await layer.new_channel()
        await layer.group_add(group, channel)
        return channel

    return layer, async_to_sync(join)()


def _received(layer: Any, channel: str) -> dict[str, Any] | None:
    async def receive() -> dict[str, Any] | None:
        try:
            return await asyncio.wait_for(layer.receive(channel), 1)
        except TimeoutError:
            return None

    return async_to_sync(receive)()


def test_the_default_layer_is_the_relay_layer_without_a_relay_url() -> None:
    layer = get_channel_layer()
    if settings.REDIS_URL:  # the scale-out choice: channels_redis, no relay needed
        assert type(layer).__name__ == "RedisChannelLayer"
        return
    assert isinstance(layer, RelayChannelLayer)
    assert layer.relay_url == ""


def test_a_signed_push_from_loopback_is_sent_to_the_group() -> None:
    layer, channel = _member_of("inbox")
    body = _body(("inbox", {"type": "inbox.changed", "conversation": 7, "reason": "created"}))
    response = _post(body, relay_headers(body))
    assert response.status_code == 204
    assert _received(layer, channel) == {"type": "inbox.changed", "conversation": 7,
                                         "reason": "created"}


@pytest.mark.parametrize("case", ["unsigned", "wrong key", "tampered", "old", "future",
                                  "outsider"])
def test_unsigned_forged_stale_or_outside_pushes_are_refused(case: str) -> None:
    layer, channel = _member_of("inbox")
    body = _body(("inbox", {"type": "inbox.changed", "conversation": 7}))
    headers = relay_headers(body)
    remote = "127.0.0.1"
    if case == "unsigned":
        headers = {}
    elif case == "wrong key":
        headers[live_layer.SIGNATURE_HEADER] = "0" * 64
    elif case == "tampered":
        body = _body(("inbox", {"type": "inbox.changed", "conversation": 8}))
    elif case == "old":
        headers = relay_headers(body, int(time.time()) - live_layer.RELAY_TOLERANCE - 5)
    elif case == "future":
        headers = relay_headers(body, int(time.time()) + live_layer.RELAY_TOLERANCE + 5)
    elif case == "outsider":
        remote = "203.0.113.9"
    response = _post(body, headers, remote=remote)
    assert response.status_code == 403
    assert _received(layer, channel) is None


def test_a_signed_but_malformed_body_is_a_400_and_get_is_not_allowed() -> None:
    for body in (b"not json", b'{"pushes": "x"}', b'{"pushes": [["inbox", {"no": "type"}]]}'):
        assert _post(body, relay_headers(body)).status_code == 400
    assert Client().get(RELAY_PATH).status_code == 405


@pytest.mark.django_db(transaction=True)
def test_a_relaying_layer_delivers_through_the_web_process(live_server: Any) -> None:
    """The gateway's side (a layer with a relay URL) → HTTP → the web side's group."""
    web_layer, channel = _member_of("user-5")
    gateway_layer = RelayChannelLayer(relay_url=live_server.url)
    async_to_sync(gateway_layer.group_send)("user-5", {"type": "notify",
                                                       "payload": {"text": "Bonjour"}})
    assert gateway_layer.wait_relayed(5)
    assert _received(web_layer, channel) == {"type": "notify", "payload": {"text": "Bonjour"}}


def test_a_failed_relay_is_logged_never_raised(caplog: Any) -> None:
    layer = RelayChannelLayer(relay_url="http://127.0.0.1:9", relay_timeout=1)  # nothing there
    with caplog.at_level(logging.WARNING, logger="permanence.core.live_layer"):
        async_to_sync(layer.group_send)("inbox", {"type": "inbox.changed", "conversation": 1})
        assert layer.wait_relayed(5)
    # Nothing listens there: one line saying so (no traceback: it happens at every start-up
    # while the web process is not listening yet).
    assert ("live relay to http://127.0.0.1:9/internal/live-relay/: the web process is not "
            "listening (1 push(es) lost)") in caplog.text
    assert "Traceback" not in caplog.text


@pytest.mark.django_db(transaction=True)
def test_pushes_from_synchronous_code_are_relayed_without_an_event_loop(
        live_server: Any) -> None:
    """send_nowait (what the mail gateway uses after a commit): queued for the relay at
    once, delivered by the sender thread like any relayed push."""
    web_layer, channel = _member_of("user-6")
    gateway_layer = RelayChannelLayer(relay_url=live_server.url)
    assert gateway_layer.send_nowait([("user-6", {"type": "notify", "payload": {"n": 1}})])
    assert gateway_layer.wait_relayed(5)
    assert _received(web_layer, channel) == {"type": "notify", "payload": {"n": 1}}


def test_send_nowait_without_relay_defers_to_the_event_loop_only_for_listened_groups() -> None:
    layer = RelayChannelLayer()
    # No one in this process listens (a gateway or worker without relay): nothing to do.
    assert layer.send_nowait([("inbox", {"type": "inbox.changed", "conversation": 1})])

    async def join() -> str:
        channel = await layer.new_channel()
        await layer.group_add("inbox", channel)
        return channel

    channel = async_to_sync(join)()
    # A member here: the caller must go through the event loop (and the push arrives).
    assert not layer.send_nowait([("inbox", {"type": "inbox.changed", "conversation": 2})])
    async_to_sync(layer.group_send)("inbox", {"type": "inbox.changed", "conversation": 2})
    assert _received(layer, channel) == {"type": "inbox.changed", "conversation": 2}


def test_a_send_from_a_thread_of_its_own_wakes_the_consumers_loop() -> None:
    """The call events pump pushes from a thread that is no request's: async_to_sync gives
    it a loop of its own. The consumer waiting on the server's loop gets the message at once,
    not at that loop's next wake-up (here: never, nothing else wakes it)."""
    import threading

    layer = RelayChannelLayer()
    loop = asyncio.new_event_loop()
    server = threading.Thread(target=loop.run_forever, daemon=True)
    server.start()
    try:
        async def join_and_wait() -> tuple[float, dict[str, Any]]:
            channel = await layer.new_channel()
            await layer.group_add("desk-agent-1", channel)
            joined.set()
            message = await layer.receive(channel)
            return time.monotonic(), message

        joined = threading.Event()
        waiting = asyncio.run_coroutine_threadsafe(join_and_wait(), loop)
        assert joined.wait(5)
        time.sleep(0.05)  # the consumer is now blocked in receive()

        def pump() -> None:
            async_to_sync(layer.group_send)("desk-agent-1", {"type": "desk.pop", "n": 1})

        sent_at = time.monotonic()
        threading.Thread(target=pump).start()
        received_at, message = waiting.result(timeout=5)
        assert message == {"type": "desk.pop", "n": 1}
        assert received_at - sent_at < 0.5
    finally:
        loop.call_soon_threadsafe(loop.stop)
        server.join(5)
        loop.close()
