"""The health probes of the channels, run every minute by the sampler (a task of the
worker). Each answers True (up) or False (down) and never raises.

- web: the database answered (the sampler ran and can write its row: that is the probe).
- e-mail: the inbound gateway accepts a TCP connection on MAILGATEWAY_HOST:MAILGATEWAY_PORT
  and greets with an SMTP/LMTP 220 within PROBE_TIMEOUT seconds.
- telephony: no stored call event has waited more than TELEPHONY_BACKLOG unprocessed (the
  pumps of the web processes, or the scheduler's sweep, process them within seconds).
- chat: the channel layer answers — a Redis PING with REDIS_URL; otherwise the web process's
  live relay answers HTTP on its loopback address (LIVE_RELAY_URL), or, in the web process
  itself (no relay), the in-memory layer is there.
- payments: a worker heartbeat younger than WORKER_STALE, and no provider webhook stored
  but unprocessed for more than PAYMENTS_BACKLOG.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import redis
from channels.layers import get_channel_layer
from django.conf import settings

from permanence.core import clock
from permanence.core.models import WorkerHeartbeat
from permanence.desk.models import CallEvent
from permanence.payments.models import ProviderEvent

from .models import Channel

logger = logging.getLogger(__name__)

PROBE_TIMEOUT = 2.0  # seconds
TELEPHONY_BACKLOG = timedelta(minutes=2)
PAYMENTS_BACKLOG = timedelta(minutes=10)
WORKER_STALE = timedelta(minutes=2)


def probe_web() -> bool:
    return True


def probe_email() -> bool:
    try:
        with socket.create_connection((settings.MAILGATEWAY_HOST, settings.MAILGATEWAY_PORT),
                                      timeout=PROBE_TIMEOUT) as conn:
            conn.settimeout(PROBE_TIMEOUT)
            greeting = conn.recv(512)
            with contextlib.suppress(OSError):
                conn.sendall(b"QUIT\r\n")
    except OSError:
        return False
    return greeting.startswith(b"220")


def probe_telephony() -> bool:
    stuck = clock.now() - TELEPHONY_BACKLOG
    return not CallEvent.objects.filter(processed_at__isnull=True,
                                        received_at__lt=stuck).exists()


def probe_chat() -> bool:
    if settings.REDIS_URL:
        try:
            client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=PROBE_TIMEOUT,
                                          socket_connect_timeout=PROBE_TIMEOUT, protocol=2)
            try:
                return bool(client.ping())
            finally:
                client.close()
        except (redis.RedisError, OSError):
            return False
    layers: dict[str, Any] = settings.CHANNEL_LAYERS
    relay = str(layers.get("default", {}).get("CONFIG", {}).get("relay_url", ""))
    if not relay:
        return get_channel_layer() is not None
    if not relay.startswith(("http://", "https://")):
        return False
    try:
        with urllib.request.urlopen(relay, timeout=PROBE_TIMEOUT):  # noqa: S310  # nosec B310 (loopback URL from runstack)
            return True
    except urllib.error.HTTPError:  # the web process answered (a 404 is an answer)
        return True
    except (urllib.error.URLError, OSError, ValueError):
        return False


def probe_payments() -> bool:
    now = clock.now()
    beat = (WorkerHeartbeat.objects.filter(kind="worker").order_by("-beat_at")
            .values_list("beat_at", flat=True).first())
    if beat is None or beat < now - WORKER_STALE:
        return False
    return not ProviderEvent.objects.filter(processed_at__isnull=True,
                                            received_at__lt=now - PAYMENTS_BACKLOG).exists()


PROBES: dict[str, Callable[[], bool]] = {
    Channel.WEB: probe_web,
    Channel.EMAIL: probe_email,
    Channel.TELEPHONY: probe_telephony,
    Channel.CHAT: probe_chat,
    Channel.PAYMENTS: probe_payments,
}


def probe_all() -> dict[str, bool]:
    results: dict[str, bool] = {}
    for channel, probe in PROBES.items():
        try:
            results[str(channel)] = bool(probe())
        except Exception:  # a probe's own bug counts as down, never stops the others
            logger.exception("status probe %s failed", channel)
            results[str(channel)] = False
    return results
