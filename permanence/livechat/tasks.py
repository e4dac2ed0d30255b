"""Worker tasks of the live chat (periodic, registered in startup.py)."""

from __future__ import annotations

from django_tasks import task

from .services import waiting_expire


@task()
def waiting_sweep() -> int:
    """Periodic: chats left waiting with nobody to take them become offline conversations."""
    return waiting_expire()
