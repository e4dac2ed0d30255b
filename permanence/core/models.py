from __future__ import annotations

from django.db import models


class WorkerHeartbeat(models.Model):
    """Last sign of life of each worker / scheduler process (for /healthz)."""

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=20, default="worker")
    beat_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.name


class ScheduledJobRun(models.Model):
    """When each periodic job was last enqueued, so several schedulers never double-run it."""

    job = models.CharField(max_length=100, unique=True)
    last_run_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.job
