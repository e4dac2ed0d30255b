"""/healthz latency while the server is under concurrent load on loopback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from .stats import percentile, summary_ms

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str, headers: dict[str, str] | None = None) -> float:
    t = time.perf_counter()
    req = urllib.request.Request(url, headers=headers or {})  # noqa: S310 (loopback only)
    with urllib.request.urlopen(req, timeout=10) as response:  # noqa: S310
        response.read()
    return (time.perf_counter() - t) * 1000


def run() -> list[tuple[str, str, str, bool]]:
    from django.contrib.auth import get_user_model

    from permanence.accounts.services import api_token_create

    port = _free_port()
    env = dict(os.environ)
    server = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "uvicorn", "permanence.asgi:application", "--host", "127.0.0.1",
         "--port", str(port), "--workers", "2", "--no-access-log", "--log-level", "warning",
         "--lifespan", "off"],
        cwd=ROOT, env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                _get(base + "/healthz")
                break
            except OSError:
                time.sleep(0.1)
        user = get_user_model().objects.get(email="bench-admin@permanence.test")
        _tok, raw = api_token_create(actor=user, user=user, name="bench-load")
        stop = threading.Event()
        load_done = [0]

        def load() -> None:
            while not stop.is_set():
                try:
                    _get(base + "/api/v1/accounts?limit=20", {"Authorization": f"Bearer {raw}"})
                    load_done[0] += 1
                except OSError:
                    pass

        threads = [threading.Thread(target=load, daemon=True) for _ in range(8)]
        for t in threads:
            t.start()
        time.sleep(0.5)
        started = time.perf_counter()
        timings = [_get(base + "/healthz") for _ in range(200)]
        elapsed = time.perf_counter() - started
        stop.set()
        for t in threads:
            t.join(timeout=5)
    finally:
        server.terminate()
        server.wait(timeout=10)
    p50 = percentile(timings, 50)
    print("\n== /healthz under load (8 concurrent API clients, 2 uvicorn workers) ==")
    print(f"  /healthz: {summary_ms(timings)}; background API throughput "
          f"{load_done[0] / elapsed:.0f} req/s")
    return [("/healthz p50 under load", f"{p50:.1f} ms", "< 50 ms", p50 < 50)]
