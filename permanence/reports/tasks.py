from __future__ import annotations

from django_tasks import task

from .monthly import monthly_reports_send


@task()
def send_monthly_reports() -> int:
    """Last month's activity report announced to each active account's clients (once)."""
    return monthly_reports_send()
