"""Live-update latency across processes, as `make demo` runs them: `manage.py runstack` (web,
worker, scheduler, e-mail gateway as separate processes) on its own SQLite file; a logged-in
agent's websocket (/ws/inbox/) on the web process; mails sent one at a time over SMTP to the
gateway. Measured: from the start of the SMTP send to the `inbox.changed` event on the socket
— an upper bound of "gateway commit → browser" (it also holds the SMTP session and the
ingestion). In the embedded default (no Redis: the loopback relay), and over Redis when
REDIS_URL is set."""

from __future__ import annotations

import json
import os
import smtplib
import sqlite3
import tempfile
import time
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

from websockets.sync.client import connect

from testkit.stack import agent_session, base_env, migrated_database, running_stack

from .stats import percentile, summary_ms

N_MAILS = int(os.environ.get("BENCH_LIVE_MAILS", "60"))
ADDRESS = "accueil@bench-live.test"


def _mail(i: int) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"Client {i} <client{i}@exemple.fr>"
    msg["To"] = ADDRESS
    msg["Subject"] = f"Rendez-vous {i}"
    msg.set_content("Bonjour, je souhaiterais un rendez-vous.")
    return msg.as_bytes()


def _created_at(db: Path, conversation: int) -> float:
    """When the gateway stamped the conversation (just before its commit), epoch seconds."""
    with sqlite3.connect(db) as conn:
        (value,) = conn.execute("SELECT created_at FROM inbox_conversation WHERE id = ?",
                                (conversation,)).fetchone()
    return datetime.fromisoformat(value).replace(tzinfo=UTC).timestamp()


def _measure(redis_url: str = "") -> tuple[list[float], list[float]]:
    var = Path(tempfile.mkdtemp(prefix="bench-live-"))
    db = migrated_database(var)
    env = base_env(var, db, **({"REDIS_URL": redis_url} if redis_url else {}))
    session = agent_session(env, ADDRESS)
    timings: list[float] = []
    from_commit: list[float] = []
    with running_stack(var, env) as stack:
        headers = {"Cookie": f"sessionid={session}", "Origin": stack.url}
        with connect(f"ws://127.0.0.1:{stack.port}/ws/inbox/", additional_headers=headers,
                     open_timeout=10) as ws, \
                smtplib.SMTP("127.0.0.1", stack.smtp_port, timeout=30) as smtp:
            time.sleep(0.3)
            for i in range(N_MAILS + 3):  # the first 3 warm the processes up
                started = time.perf_counter()
                smtp.sendmail(f"client{i}@exemple.fr", [ADDRESS], _mail(i))
                while True:
                    event = json.loads(ws.recv(timeout=30))
                    if event.get("type") == "inbox.changed" and event.get("reason") == "created":
                        break
                arrived = time.time()
                if i >= 3:
                    timings.append((time.perf_counter() - started) * 1000)
                    from_commit.append((arrived - _created_at(db, event["conversation"])) * 1000)
                time.sleep(0.05)
    return timings, from_commit


def run() -> list[tuple[str, str, str, bool]]:
    results = []
    # The targets apply to "stamped in the gateway → event" (the conversation's created_at,
    # taken just before the commit: still an upper bound of commit → browser).
    embedded, stamped = _measure()
    p95 = percentile(stamped, 95)
    print(f"\n== Live updates, gateway process → websocket on the web process "
          f"({N_MAILS} mails) ==")
    print(f"  embedded default (loopback relay, SQLite): SMTP send → event {summary_ms(embedded)}"
          f"; stamped in the gateway → event {summary_ms(stamped)}")
    results.append(("live update p95, embedded default", f"{p95:.0f} ms", "< 1000 ms",
                    p95 < 1000))
    redis_url = os.environ.get("REDIS_URL", "")
    if redis_url:
        over_redis, stamped = _measure(redis_url)
        p95 = percentile(stamped, 95)
        print(f"  Redis (channels_redis): SMTP send → event {summary_ms(over_redis)}"
              f"; stamped in the gateway → event {summary_ms(stamped)}")
        results.append(("live update p95, Redis", f"{p95:.0f} ms", "< 200 ms", p95 < 200))
    else:
        print("  Redis: skipped (REDIS_URL not set)")
    return results
