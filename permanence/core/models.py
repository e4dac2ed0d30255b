from __future__ import annotations

from django.conf import settings
from django.db import models


class StatusHistory(models.Model):
    """A state machine's history row, written by core.transitions: each machine's model adds
    the foreign key to its row and from_status/to_status sized to its statuses."""

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                              blank=True, related_name="+")
    at = models.DateTimeField()
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        abstract = True
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{getattr(self, 'from_status', '')} → {getattr(self, 'to_status', '')}"


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
