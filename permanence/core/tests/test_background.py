"""Background work asked for by name: enqueued after the commit, never inside a rollback."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import transaction
from django_tasks import task

from permanence.core import background

CALLS: list[tuple[Any, ...]] = []


@background.register("tests.record")
@task()
def record(*args: Any) -> str:
    CALLS.append(args)
    return "ok"


@pytest.fixture(autouse=True)
def _clear() -> None:
    CALLS.clear()


@pytest.mark.django_db(transaction=True)
def test_enqueued_once_the_transaction_commits() -> None:
    with transaction.atomic():
        background.enqueue_on_commit("tests.record", 1, "a")
        assert CALLS == []  # not while the transaction is open
    assert CALLS == [(1, "a")]


@pytest.mark.django_db(transaction=True)
def test_nothing_is_enqueued_when_the_transaction_rolls_back() -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        background.enqueue_on_commit("tests.record", 2)
        raise RuntimeError
    assert CALLS == []


def test_an_unknown_name_fails_at_once() -> None:
    with pytest.raises(LookupError, match="tests.nobody"):
        background.enqueue_on_commit("tests.nobody")


def test_a_deferred_run_is_left_to_the_sweep_on_a_backend_that_cannot_defer() -> None:
    assert background.enqueue("tests.record", 3, run_after=datetime(2030, 1, 1, tzinfo=UTC)) \
        is False
    assert CALLS == []
    assert background.enqueue("tests.record", 4) is True
    assert CALLS == [(4,)]


@pytest.mark.django_db(transaction=True)
def test_with_the_database_backend_the_task_row_commits_with_the_data(settings: Any) -> None:
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend",
                                  "QUEUES": ["default", "email"]}}
    with pytest.raises(RuntimeError), transaction.atomic():
        background.enqueue_with_transaction("tests.record", 5)
        assert DBTaskResult.objects.filter(task_path=record.module_path).count() == 1
        raise RuntimeError  # the business write fails: its task goes with it
    assert not DBTaskResult.objects.filter(task_path=record.module_path).exists()
    with transaction.atomic():
        background.enqueue_with_transaction("tests.record", 6)
    [stored] = DBTaskResult.objects.filter(task_path=record.module_path)
    assert stored.args_kwargs == {"args": [6], "kwargs": {}}
    assert CALLS == []  # stored for a worker, not run here


@pytest.mark.django_db(transaction=True)
def test_with_another_backend_the_task_waits_for_the_commit() -> None:
    with transaction.atomic():
        background.enqueue_with_transaction("tests.record", 7)
        assert CALLS == []
    assert CALLS == [(7,)]
