"""Background work asked for by name, so that services never import tasks modules.

Tasks call services; services only need to *wake* a task once their transaction commits. If
a service imported its app's tasks module to enqueue, the two modules would import each other.
Instead each tasks module registers its tasks under a stable name (`@register("...")`, run
when the app loads its tasks in `AppConfig.ready()`), and services ask for them by that name:

    background.enqueue_on_commit("integrations.deliver_webhook", delivery.pk, 1)

A wake-up may be lost (a crash between the commit and the enqueue): the rows it would have
processed are the outbox, written in the business transaction, and each app's periodic sweep
finds what was left behind. So nothing here needs to be durable.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from django.db import transaction

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
    """Enqueue once the current transaction commits (at once outside a transaction)."""
    task_named(name)  # fail now, inside the caller's transaction, on a name nobody registered
    transaction.on_commit(lambda: enqueue(name, *args, run_after=run_after), robust=True)
