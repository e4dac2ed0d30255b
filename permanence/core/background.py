"""Background work asked for by name, so that services never import tasks modules.

Tasks call services; services only need to *wake* a task once their transaction commits. If
a service imported its app's tasks module to enqueue, the two modules would import each other.
Instead each tasks module registers its tasks under a stable name (`@register("...")`, run
when the app loads its tasks in `AppConfig.ready()`), and services ask for them by that name:

    background.enqueue_on_commit("integrations.deliver_webhook", delivery.pk, 1)

`enqueue_with_transaction` writes the task row inside the caller's transaction when tasks are
stored in the database (the default backend): it commits with the business rows or not at
all (one commit, and a crash can't separate them), and no worker sees it before the commit.
`enqueue_on_commit` waits for the commit: a wake-up lost then (a crash between the commit and
the enqueue) loses nothing, because the rows it would have processed are the outbox (webhook
deliveries, replies to send) and each app's periodic sweep finds what was left behind.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from django.db import transaction
from django_tasks_db.backend import DatabaseBackend

logger = logging.getLogger(__name__)

T = TypeVar("T")
_TASKS: dict[str, Any] = {}


def register(name: str) -> Callable[[T], T]:
    """Make a django-tasks task reachable as `name` (decorate the @task object)."""

    def decorator(task: T) -> T:
        _TASKS[name] = task
        return task

    return decorator


def task_named(name: str) -> Any:
    try:
        return _TASKS[name]
    except KeyError:
        raise LookupError(f"no background task registered as {name!r} (is its app's tasks "
                          "module imported in AppConfig.ready()?)") from None


def enqueue(name: str, *args: Any, run_after: datetime | None = None) -> bool:
    """Enqueue now. A deferred run on a backend that cannot defer (the immediate backend of
    tests and try-outs) is skipped and left to the app's sweep: False then."""
    task = task_named(name)
    if run_after is not None:
        if not task.get_backend().supports_defer:
            logger.info("%s%s: deferred run left to the sweep", name, args)
            return False
        task = task.using(run_after=run_after)
    task.enqueue(*args)
    return True


def enqueue_on_commit(name: str, *args: Any, run_after: datetime | None = None) -> None:
    """Enqueue once the current transaction commits (at once outside a transaction): a wake-up
    for rows that are themselves the outbox (webhook deliveries, replies to send)."""
    task_named(name)  # fails now, inside the caller's transaction, on an unknown name
    transaction.on_commit(lambda: enqueue(name, *args, run_after=run_after), robust=True)


def enqueue_with_transaction(name: str, *args: Any, run_after: datetime | None = None) -> None:
    """Enqueue so that the task runs only if the current transaction commits: written in the
    same transaction with the database backend (the task row is the outbox row: one commit,
    never lost), after the commit with any other backend."""
    task = task_named(name)
    if (isinstance(task.get_backend(), DatabaseBackend)
            and transaction.get_connection().in_atomic_block):
        enqueue(name, *args, run_after=run_after)
        return
    enqueue_on_commit(name, *args, run_after=run_after)
