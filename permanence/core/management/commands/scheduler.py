from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from permanence.core.scheduler import REGISTRY, run_due_jobs


class Command(BaseCommand):
    help = "Enqueue periodic jobs when they are due (registered in code)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--interval", type=float, default=10.0)
        parser.add_argument("--once", action="store_true", help="Run one pass and exit.")

    def handle(self, *args: Any, interval: float, once: bool, **options: Any) -> None:
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        self.stdout.write(f"Scheduler: {len(REGISTRY)} periodic job(s): "
                          + ", ".join(sorted(REGISTRY)))
        while not stop.is_set():
            try:
                for name in run_due_jobs():
                    self.stdout.write(f"enqueued {name}")
            finally:
                close_old_connections()
            if once:
                return
            stop.wait(interval)
