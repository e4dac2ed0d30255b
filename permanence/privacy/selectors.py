"""Reads of the privacy app: the backups' state (for /healthz and the stale-backup alert)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings

from permanence.core import clock

from .models import BackupRun


def last_successful_backup_at() -> datetime | None:
    return (BackupRun.objects.filter(ok=True, finished_at__isnull=False)
            .order_by("-finished_at").values_list("finished_at", flat=True).first())


def backup_health() -> dict[str, Any]:
    """{"last_success_at", "age_hours", "status"}: "missing" (never), "stale" (older than
    BACKUP_STALE_HOURS) or "ok"."""
    last = last_successful_backup_at()
    if last is None:
        return {"last_success_at": None, "age_hours": None, "status": "missing"}
    age = (clock.now() - last).total_seconds() / 3600
    return {"last_success_at": last.isoformat(), "age_hours": round(age, 1),
            "status": "stale" if age > settings.BACKUP_STALE_HOURS else "ok"}


def backup_runs(limit: int = 30) -> list[BackupRun]:
    """The latest runs, newest first (one query)."""
    return list(BackupRun.objects.order_by("-started_at", "-pk")[:limit])
