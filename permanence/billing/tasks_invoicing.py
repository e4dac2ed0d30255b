"""The invoicing run, every day (registered in billing.startup): each subscription whose
period opens today or before gets its invoice."""

from __future__ import annotations

from django_tasks import task

from .invoicing_run import run


@task()
def invoicing_run() -> dict[str, int]:
    return run()
