from __future__ import annotations

from datetime import date

from django_tasks import task

from permanence.core import background

from .monthly import monthly_reports_send
from .scheduled import SEND_TASK, export_send, exports_due


@task()
def send_monthly_reports() -> int:
    """Last month's activity report announced to each active account's clients (once)."""
    return monthly_reports_send()


@task()
def claim_scheduled_exports() -> int:
    """The exports due (the week or month just ended) claimed and their sending woken."""
    return exports_due()


@background.register(SEND_TASK)
@task()
def send_scheduled_export(pk: int, start: str, end: str) -> str:
    """One scheduled export built with its owner's rights and e-mailed to them."""
    return export_send(pk, date.fromisoformat(start), date.fromisoformat(end))
