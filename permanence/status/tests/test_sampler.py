"""The health sampler: each channel's probe up and down on hand-built conditions (real
sockets, real rows), and the per-day counters incremented in place."""

from __future__ import annotations

import socket
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from zoneinfo import ZoneInfo

from django.test import override_settings

from permanence.core import clock
from permanence.core.models import WorkerHeartbeat
from permanence.desk.models import CallEvent
from permanence.payments.models import ProviderEvent
from permanence.status.models import Channel, ChannelDay
from permanence.status.probes import (
    probe_all,
    probe_chat,
    probe_email,
    probe_payments,
    probe_telephony,
)
from permanence.status.services import samples_record
from permanence.status.tasks import record_health_samples

PARIS = ZoneInfo("Europe/Paris")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def _line_server(greeting: bytes, redis: bool = False) -> Iterator[int]:
    """A TCP server that sends `greeting` on connect; with `redis`, a minimal Redis (RESP2)
    that answers PING with PONG and any other command (SELECT) with OK."""

    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            if greeting:
                self.request.sendall(greeting)
            while redis and (chunk := self.request.recv(1024)):
                self.request.sendall(b"+PONG\r\n" if b"PING" in chunk.upper() else b"+OK\r\n")

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


def test_email_up_when_the_gateway_greets(db: Any) -> None:
    with _line_server(b"220 permanence ESMTP\r\n") as port, \
            override_settings(MAILGATEWAY_HOST="127.0.0.1", MAILGATEWAY_PORT=port):
        assert probe_email() is True


def test_email_down_when_nothing_listens_or_the_gateway_refuses(db: Any) -> None:
    with override_settings(MAILGATEWAY_HOST="127.0.0.1", MAILGATEWAY_PORT=_closed_port()):
        assert probe_email() is False
    with _line_server(b"554 no service\r\n") as port, \
            override_settings(MAILGATEWAY_HOST="127.0.0.1", MAILGATEWAY_PORT=port):
        assert probe_email() is False


def _call_event(received: datetime, processed: datetime | None = None) -> CallEvent:
    return CallEvent.objects.create(
        event_id=f"ev-{received.timestamp()}", call_id="c1", event="ringing",
        occurred_at=received, received_at=received, processed_at=processed)


def test_telephony_down_when_an_event_waits_too_long(db: Any) -> None:
    now = clock.now()
    assert probe_telephony() is True  # nothing stored
    _call_event(now - timedelta(seconds=30))  # being processed: still fine
    assert probe_telephony() is True
    _call_event(now - timedelta(minutes=10), processed=now - timedelta(minutes=9))
    assert probe_telephony() is True
    _call_event(now - timedelta(minutes=3))  # stuck: the pumps and the sweep are down
    assert probe_telephony() is False


def test_chat_with_redis_answers_the_ping(db: Any) -> None:
    with _line_server(b"", redis=True) as port, \
            override_settings(REDIS_URL=f"redis://127.0.0.1:{port}/8"):
        assert probe_chat() is True
    with override_settings(REDIS_URL=f"redis://127.0.0.1:{_closed_port()}/8"):
        assert probe_chat() is False


def _layers(relay_url: str) -> dict[str, Any]:
    """The layer a process runs without Redis (settings.py), whatever this run uses (CI
    runs the suite with Redis)."""
    return {"default": {"BACKEND": "permanence.core.live_layer.RelayChannelLayer",
                        "CONFIG": {"relay_url": relay_url}}}


def test_chat_without_redis_reaches_the_web_process_relay(db: Any) -> None:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(405)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        with override_settings(REDIS_URL="", CHANNEL_LAYERS=_layers(url)):
            assert probe_chat() is True
    finally:
        server.shutdown()
        server.server_close()
    with override_settings(REDIS_URL="",
                           CHANNEL_LAYERS=_layers(f"http://127.0.0.1:{_closed_port()}")):
        assert probe_chat() is False
    with override_settings(REDIS_URL="", CHANNEL_LAYERS=_layers("")):
        assert probe_chat() is True  # the web process itself: its in-memory layer


def test_payments_need_a_live_worker_and_no_stuck_webhook(db: Any) -> None:
    now = clock.now()
    assert probe_payments() is False  # no worker has ever beaten
    WorkerHeartbeat.objects.create(name="w1", kind="worker", beat_at=now - timedelta(minutes=5))
    assert probe_payments() is False  # stale
    WorkerHeartbeat.objects.create(name="w2", kind="worker", beat_at=now - timedelta(seconds=20))
    assert probe_payments() is True
    ProviderEvent.objects.create(provider="stripe", event_id="evt_1", type="checkout",
                                 payload={}, received_at=now - timedelta(minutes=2))
    assert probe_payments() is True  # just stored: the worker takes it
    ProviderEvent.objects.create(provider="stripe", event_id="evt_2", type="checkout",
                                 payload={}, received_at=now - timedelta(minutes=11))
    assert probe_payments() is False


def test_samples_count_minutes_per_channel_and_day(db: Any) -> None:
    morning = datetime(2027, 3, 9, 8, 0, tzinfo=PARIS)
    samples_record({Channel.WEB: True, Channel.EMAIL: False}, at=morning)
    samples_record({Channel.WEB: True, Channel.EMAIL: True},
                   at=morning + timedelta(minutes=1))
    samples_record({Channel.WEB: False, Channel.EMAIL: True},
                   at=morning + timedelta(minutes=2))
    web = ChannelDay.objects.get(channel=Channel.WEB)
    email = ChannelDay.objects.get(channel=Channel.EMAIL)
    assert (web.minutes_observed, web.minutes_up, web.last_up) == (3, 2, False)
    assert (email.minutes_observed, email.minutes_up, email.last_up) == (3, 2, True)
    # 23:59 UTC on the 9th is already the 10th in Paris: a new row.
    samples_record({Channel.WEB: True}, at=datetime(2027, 3, 9, 23, 30, tzinfo=ZoneInfo("UTC")))
    assert sorted(str(d) for d in ChannelDay.objects.filter(channel=Channel.WEB)
                  .values_list("day", flat=True)) == ["2027-03-09", "2027-03-10"]


def test_the_job_samples_every_channel(db: Any) -> None:
    with override_settings(MAILGATEWAY_HOST="127.0.0.1", MAILGATEWAY_PORT=_closed_port(),
                           REDIS_URL="", CHANNEL_LAYERS=_layers("")):
        assert probe_all()[Channel.EMAIL] is False
        summary = record_health_samples.call()
    assert "web=up" in summary and "email=down" in summary and "payments=down" in summary
    rows = {r.channel: r for r in ChannelDay.objects.all()}
    assert set(rows) == set(Channel.values)
    assert rows[Channel.WEB].minutes_up == 1 and rows[Channel.EMAIL].minutes_up == 0
