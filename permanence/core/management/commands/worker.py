"""The task worker: django-tasks-db's db_worker plus a heartbeat, for /healthz and for the
recovery of the tasks of workers that died (core/task_leases.py)."""

from __future__ import annotations

import logging
import socket
import threading
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import close_old_connections
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand

from permanence.core import clock
from permanence.core.models import WorkerHeartbeat
from permanence.core.task_leases import heartbeat_name, reclaim_abandoned

logger = logging.getLogger(__name__)


def beat(name: str) -> None:
    WorkerHeartbeat.objects.update_or_create(
        name=name, defaults={"kind": "worker", "beat_at": clock.now()}
    )


def _heartbeat_loop(name: str, stop: threading.Event) -> None:
    lease = timedelta(seconds=settings.WORKER_HEARTBEAT_STALE_AFTER)
    while not stop.is_set():
        try:
            beat(name)
            reclaim_abandoned(now=clock.now(), lease=lease)
        except Exception:  # a busy database must not kill the worker; try again later
            logger.warning("worker heartbeat failed", exc_info=True)
        finally:
            close_old_connections()
        stop.wait(settings.WORKER_HEARTBEAT_SECONDS)


class Command(DbWorkerCommand):
    help = "Run the background task worker (all queues) with a heartbeat."

    def add_arguments(self, parser: Any) -> None:
        super().add_arguments(parser)
        parser.set_defaults(queue_name="*", reload=False)

    def handle(self, *args: Any, **options: Any) -> None:
        name = heartbeat_name(socket.gethostname(), options["worker_id"])
        stop = threading.Event()
        thread = threading.Thread(target=_heartbeat_loop, args=(name, stop), daemon=True)
        thread.start()
        try:
            super().handle(*args, **options)
        finally:
            stop.set()
