"""Live chat round trip through the real server (`manage.py runstack` on loopback).

200 visitors start a chat (`POST /chat/<slug>/start` with their site's Origin), open their
websocket and each send MESSAGES questions of the medical FAQ, spaced at random. Measured on
the visitor's own socket:

* round trip: from sending a message to the server's `ack` of it (the message is committed
  before it is acknowledged, see livechat/consumers.py);
* bot answer: from sending to the bot's answer on the same socket (the bot runs inline after
  the ack, in the same consumer: a visitor sends the next message only once the bot has
  answered, so the bot never delays the next acknowledgement).

The server uses the bench's database (DATABASE_URL) and REDIS_URL when set (else the embedded
default: in-memory layer and cache in the web process). The starts come from distinct
loopback addresses (127.0.0.2…), ten visitors each, as distinct visitors would: the per-IP
start limit (20 per 10 minutes) is not lifted, and each run has its own cache prefix.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import random
import secrets
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from .stats import percentile, summary_ms

VISITORS = int(os.environ.get("BENCH_CHAT_VISITORS", "200"))
MESSAGES = 5
# Seconds between a visitor's messages (reading the answer, typing): 200 visitors at one
# message every 10 s on average offer ~20 messages/s (and as many bot answers). Overridable
# ("0.3,1.5": a flood of ~200/s) to find the saturation point.
PAUSE = tuple(float(x) for x in os.environ.get("BENCH_CHAT_PAUSE", "5,15").split(",")[:2])
PER_ADDRESS = 10
SLUG = "bench-livechat"


def _seed() -> Any:
    """An always-open account with the chat enabled and the FAQ published; its settings."""
    from permanence.accounts.models import ClientAccount
    from permanence.calendars.models import BusinessCalendar
    from permanence.livechat.models import ChatSettings

    from .knowledge import _seed as seed_articles

    always = {d: [["00:00", "23:59"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    calendar, _ = BusinessCalendar.objects.get_or_create(
        name="Bench chat : toujours", defaults={"weekly": always, "holidays": ""})
    account, _ = ClientAccount.objects.get_or_create(
        slug=SLUG, defaults={"name": "Bench chat", "status": "actif", "calendar": calendar})
    chat_settings, _ = ChatSettings.objects.get_or_create(account=account,
                                                         defaults={"enabled": True})
    seed_articles(account, filler=0)
    return chat_settings


def _start(port: int, origin: str, source: str) -> str:
    body = json.dumps({"name": "Visiteur", "email": "visiteur@exemple.fr", "consent": True})
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30, source_address=(source, 0))
    try:
        conn.request("POST", f"/chat/{SLUG}/start", body=body,
                     headers={"Content-Type": "application/json", "Origin": origin})
        response = conn.getresponse()
        data = response.read()
        if response.status != 201:
            raise RuntimeError(f"start: HTTP {response.status} {data[:200]!r}")
        return str(json.loads(data)["token"])
    finally:
        conn.close()


class Visitor:
    def __init__(self, token: str, questions: list[str], rng: random.Random,
                 pause: tuple[float, ...]) -> None:
        self.token, self.questions, self.rng, self.pause = token, questions, rng, pause
        self.acks: list[float] = []
        self.bots: list[float] = []
        self.errors: list[str] = []

    async def run(self, ws_base: str, origin: str, connected: list[int],
                  ready: asyncio.Event) -> None:
        from websockets.asyncio.client import connect

        async with connect(f"{ws_base}/ws/chat/visitor/{self.token}/", open_timeout=30,
                           additional_headers={"Origin": origin}) as ws:
            hello = json.loads(await ws.recv())
            status = hello.get("status")
            connected.append(1)
            await ready.wait()
            for n in range(MESSAGES):
                await asyncio.sleep(self.rng.uniform(*self.pause))
                client_id = f"b{n}"
                sent = time.perf_counter()
                await ws.send(json.dumps({"type": "message", "client_id": client_id,
                                          "body": self.rng.choice(self.questions)}))
                acked = False
                # Until the ack, then (while the bot has the chat) until its answer.
                while True:
                    frame = json.loads(await asyncio.wait_for(ws.recv(), 30))
                    kind = frame.get("type")
                    if kind == "error":
                        self.errors.append(str(frame.get("code")))
                        break
                    if kind == "ack" and frame.get("client_id") == client_id:
                        self.acks.append((time.perf_counter() - sent) * 1000)
                        acked = True
                        if status not in (None, "bot"):
                            break
                    elif kind == "status":
                        status = frame.get("status")
                        if acked and status != "bot":
                            break
                    elif kind == "message" and frame["message"]["who"] == "bot" and acked:
                        self.bots.append((time.perf_counter() - sent) * 1000)
                        break


async def _visitors(port: int, origin: str, tokens: list[str], questions: list[str],
                    pause: tuple[float, ...] = PAUSE) -> tuple[list[Visitor], float]:
    ws_base = f"ws://127.0.0.1:{port}"
    rng = random.Random(13)
    visitors = [Visitor(t, questions, random.Random(rng.random()), pause) for t in tokens]
    ready = asyncio.Event()
    connected: list[int] = []
    tasks = [asyncio.create_task(v.run(ws_base, origin, connected, ready)) for v in visitors]
    # Every socket open (hello received) before the first message: concurrent visitors.
    deadline = time.monotonic() + 60
    while (len(connected) < len(tasks) and time.monotonic() < deadline
           and not any(t.done() for t in tasks)):
        await asyncio.sleep(0.05)
    started = time.perf_counter()
    ready.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    elapsed = time.perf_counter() - started
    for visitor, result in zip(visitors, results, strict=True):
        if isinstance(result, BaseException):
            visitor.errors.append(type(result).__name__ + ": " + str(result)[:100])
    return visitors, elapsed


def run_livechat_bench() -> dict[str, Any]:
    from django.db import connection, connections

    from permanence.knowledge.tests.bot_fixtures import QUESTIONS
    from testkit.stack import base_env, running_stack

    chat_settings = _seed()
    redis_url = os.environ.get("REDIS_URL", "")
    database_url = os.environ["DATABASE_URL"]  # bench/__main__.py sets it when unset
    vendor = connection.vendor
    connections.close_all()
    var_dir = Path(tempfile.mkdtemp(prefix="permanence-bench-chat-"))
    extra = {"DATABASE_URL": database_url,
             "CACHE_KEY_PREFIX": "bench-chat-" + secrets.token_hex(4)}
    if redis_url:
        extra["REDIS_URL"] = redis_url
    env = base_env(var_dir, var_dir / "unused.sqlite3", **extra)
    questions = [q for q, key in QUESTIONS if key]
    with running_stack(var_dir, env) as stack:
        origin = stack.url
        chat_settings.allowed_origins = origin
        chat_settings.enabled = True
        chat_settings.save(update_fields=["allowed_origins", "enabled"])
        connections.close_all()
        # Warm-up (not measured): the bot's index, the server's connections.
        warm = [_start(stack.port, origin, "127.0.0.1")]
        asyncio.run(_visitors(stack.port, origin, warm, questions, (0, 0.1)))
        started = time.perf_counter()
        tokens = [_start(stack.port, origin, f"127.0.0.{2 + i // PER_ADDRESS}")
                  for i in range(VISITORS)]
        start_ms = (time.perf_counter() - started) * 1000 / VISITORS
        visitors, elapsed = asyncio.run(_visitors(stack.port, origin, tokens, questions))
    acks = [ms for v in visitors for ms in v.acks]
    bots = [ms for v in visitors for ms in v.bots]
    errors = [e for v in visitors for e in v.errors]
    if errors:
        print(f"  server output kept: {var_dir / 'runstack.log'}")
    else:
        shutil.rmtree(var_dir, ignore_errors=True)
    layer = "Redis" if redis_url else "embedded (in-memory layer, relay)"
    print(f"  database: {vendor}; live layer and cache: {layer}")
    print(f"  {VISITORS} concurrent visitors × {MESSAGES} messages, "
          f"{PAUSE[0]:g}–{PAUSE[1]:g} s apart (~{VISITORS * 2 / sum(PAUSE):.0f} messages/s "
          f"offered); start: {start_ms:.1f} ms per chat (sequential)")
    print(f"  round trip (send → ack): {summary_ms(acks)}, p99 {percentile(acks, 99):.1f} ms")
    print(f"  bot answer (send → answer on the socket): {summary_ms(bots)}, "
          f"p99 {percentile(bots, 99):.1f} ms" if bots else "  bot answer: none received")
    print(f"  throughput: {len(acks) / elapsed:.0f} messages acknowledged/s "
          f"({len(acks)} in {elapsed:.1f} s); errors: {len(errors)} {sorted(set(errors))[:5]}")
    return {"p95": round(percentile(acks, 95), 1), "redis": bool(redis_url),
            "vendor": vendor, "complete": len(acks) == VISITORS * MESSAGES and not errors,
            "bot_p95": round(percentile(bots, 95), 1) if bots else None}


def run() -> list[tuple[str, str, str, bool]]:
    """`make bench` convention: [(name, value, target, ok), ...]."""
    r = run_livechat_bench()
    where = f"{r['vendor']}{' + Redis' if r['redis'] else ', embedded layer'}"
    return [
        (f"chat round trip p95, {VISITORS} visitors ({where})", f"{r['p95']} ms",
         "< 50 ms (Redis)", r["p95"] < 50),
        ("chat messages all acknowledged, no error", "yes" if r["complete"] else "no", "yes",
         r["complete"]),
    ]
