from __future__ import annotations

from django_tasks import task

from .requests import exports_expire
from .retention import retention_apply
from .services import stale_backup_alert


@task()
def alert_stale_backup() -> bool:
    """The administrators told (once a day) when the last successful backup is stale."""
    return stale_backup_alert()


@task()
def apply_retention() -> list[int]:
    """Daily: the retention schedules applied (a dry-run report, then the real run)."""
    return [run.pk for run in retention_apply()]


@task()
def expire_exports() -> int:
    """Daily: the data exports' ZIPs deleted PRIVACY_EXPORT_KEEP_DAYS after they were built."""
    return exports_expire()
