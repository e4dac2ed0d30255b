from __future__ import annotations

from django_tasks import task

from permanence.core import background

from .requests import BUILD_TASK, export_build


@background.register(BUILD_TASK)
@task()
def build_export(export_id: int) -> str:
    """Write a data subject's (or an account's) export ZIP, then execute the request."""
    return str(export_build(export_id=export_id).status)
