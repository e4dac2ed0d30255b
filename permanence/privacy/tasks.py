from __future__ import annotations

from django_tasks import task

from .services import stale_backup_alert


@task()
def alert_stale_backup() -> bool:
    """The administrators told (once a day) when the last successful backup is stale."""
    return stale_backup_alert()
