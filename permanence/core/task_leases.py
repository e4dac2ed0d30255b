"""Tasks whose worker died: found by the workers' heartbeats and queued again.

django-tasks-db marks a task RUNNING when a worker claims it and never looks at it again: a
worker killed mid-task (SIGKILL, out of memory, the machine gone) left it RUNNING for ever,
and what it was doing — an e-mail, a webhook — was silently lost. Every worker beats
(WorkerHeartbeat, every WORKER_HEARTBEAT_SECONDS) while it runs, its task included (the beat
has a thread of its own). So a RUNNING task claimed longer than WORKER_HEARTBEAT_STALE_AFTER
ago whose worker has not beaten for that long is abandoned: any live worker puts it back to
READY (a conditional UPDATE on its claim, so two workers never both do), and the next free
worker runs it again.

Running again is safe because the tasks are idempotent: outbox rows claimed by a conditional
UPDATE, provider calls with idempotency keys, and each queued e-mail carries the Message-ID
chosen when it was queued (core.mail), so a copy that the relay had taken just before the
kill — the one window no SMTP conversation can close — is the same message to the receiver.
A task abandoned MAX_CLAIMS times (one that kills its worker, say) fails for good instead of
killing every worker in turn.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db.models import Q
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from .models import WorkerHeartbeat

logger = logging.getLogger(__name__)

MAX_CLAIMS = 3
ABANDONED = "permanence.core.task_leases.AbandonedTask"


def heartbeat_name(hostname: str, worker_id: str) -> str:
    return f"worker:{hostname}:{worker_id[:8]}"


def reclaim_abandoned(*, now: datetime, lease: timedelta) -> list[str]:
    """Queue again (or fail, past MAX_CLAIMS) the RUNNING tasks whose worker is silent;
    their ids."""
    alive = {name.rsplit(":", 1)[-1] for name in WorkerHeartbeat.objects.filter(
        kind="worker", beat_at__gte=now - lease).values_list("name", flat=True)}
    running = DBTaskResult.objects.filter(
        Q(started_at__lt=now - lease) | Q(started_at__isnull=True),
        status=TaskResultStatus.RUNNING)
    reclaimed = []
    for task in running.only("id", "task_path", "worker_ids", "started_at"):
        worker = task.worker_ids[-1] if task.worker_ids else ""
        if worker and worker[:8] in alive:
            continue  # a long task of a live worker
        same_claim = DBTaskResult.objects.filter(pk=task.pk, status=TaskResultStatus.RUNNING,
                                                 started_at=task.started_at)
        if len(task.worker_ids) >= MAX_CLAIMS:
            done = same_claim.update(
                status=TaskResultStatus.FAILED, finished_at=now, exception_class_path=ABANDONED,
                traceback=f"Abandoned by {len(task.worker_ids)} workers in turn: given up.")
            if done:
                logger.error("Task %s (%s) abandoned by %s workers: failed for good",
                             task.pk, task.task_path, len(task.worker_ids))
            continue
        if same_claim.update(status=TaskResultStatus.READY, started_at=None):
            logger.warning("Task %s (%s) abandoned by worker %s: queued again", task.pk,
                           task.task_path, worker or "?")
            reclaimed.append(str(task.pk))
    return reclaimed
