"""The recovery of tasks whose worker died (core/task_leases.py), rule by rule; the whole
journey with real processes and SIGKILL is tests/faults/test_faults_worker_killed.py."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from permanence.core import clock
from permanence.core.models import WorkerHeartbeat
from permanence.core.task_leases import ABANDONED, heartbeat_name, reclaim_abandoned

pytestmark = pytest.mark.django_db
LEASE = timedelta(minutes=2)


def _running(workers: list[str], started_ago: timedelta) -> DBTaskResult[Any, Any]:
    now = clock.now()
    return DBTaskResult.objects.create(
        task_path="permanence.core.tasks.record_scheduler_tick",
        args_kwargs={"args": [], "kwargs": {}}, backend_name="default", run_after=now,
        status=TaskResultStatus.RUNNING, worker_ids=workers, started_at=now - started_ago,
        exception_class_path="", traceback="")


def _beat(worker: str, ago: timedelta) -> None:
    WorkerHeartbeat.objects.create(name=heartbeat_name("host", worker), kind="worker",
                                   beat_at=clock.now() - ago)


def test_a_long_task_of_a_live_worker_is_left_alone() -> None:
    _beat("aaaaaaaa-live", timedelta(seconds=5))
    task = _running(["aaaaaaaa-live"], started_ago=timedelta(hours=1))
    assert reclaim_abandoned(now=clock.now(), lease=LEASE) == []
    task.refresh_from_db()
    assert task.status == TaskResultStatus.RUNNING


def test_a_task_of_a_silent_worker_is_queued_again_once() -> None:
    _beat("bbbbbbbb-dead", timedelta(minutes=10))
    task = _running(["bbbbbbbb-dead"], started_ago=timedelta(minutes=10))
    assert reclaim_abandoned(now=clock.now(), lease=LEASE) == [str(task.pk)]
    task.refresh_from_db()
    assert task.status == TaskResultStatus.READY and task.started_at is None
    assert reclaim_abandoned(now=clock.now(), lease=LEASE) == []  # READY now: nothing to do


def test_a_fresh_claim_is_not_judged_before_its_lease() -> None:
    # Claimed a moment ago by a worker whose first beat is not written yet.
    task = _running(["cccccccc-new"], started_ago=timedelta(seconds=3))
    assert reclaim_abandoned(now=clock.now(), lease=LEASE) == []
    task.refresh_from_db()
    assert task.status == TaskResultStatus.RUNNING


def test_a_task_abandoned_by_three_workers_fails_for_good() -> None:
    task = _running(["dddddddd-1", "eeeeeeee-2", "ffffffff-3"], started_ago=timedelta(hours=1))
    assert reclaim_abandoned(now=clock.now(), lease=LEASE) == []
    task.refresh_from_db()
    assert task.status == TaskResultStatus.FAILED
    assert task.exception_class_path == ABANDONED
