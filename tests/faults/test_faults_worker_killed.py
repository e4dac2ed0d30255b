"""A worker killed mid-task: the task runs again, and its effect happens once.

Two real worker processes (`manage.py worker`, as runstack starts them) on one SQLite file,
an e-mail queued as the product queues it (core.mail.queue_email), and a real SMTP server of
the test's own that takes the whole message and then stalls before accepting it — where a
slow relay leaves a sender. Whichever worker claimed the task hangs there; while it is alive
(it keeps beating) the other leaves its task alone, however long it takes. Then it is killed
with SIGKILL (no clean-up of any kind): the survivor finds the abandoned task through the
heartbeats (core/task_leases.py), queues it again and sends it. The server has exactly one
message — the first transfer was never accepted, so it is not delivered — with the
Message-ID chosen when the e-mail was queued."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest

from testkit.faults import StallingSmtp, wait_for
from testkit.stack import ROOT, base_env, manage, migrated_database

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux signals")

LEASE_SECONDS = 3
QUEUE = """
from permanence.core.mail import queue_email
queue_email(to=["docteur@exemple.fr"], subject="Message urgent de Mme Martin",
            body="Rappeler Mme Martin avant midi.")
"""
TASKS = "SELECT status, worker_ids, args_kwargs FROM django_tasks_database_dbtaskresult"


def _tasks(db: Path) -> list[tuple[str, list[str], dict[str, Any]]]:
    with sqlite3.connect(db, timeout=20) as conn:
        return [(status, json.loads(workers), json.loads(args))
                for status, workers, args in conn.execute(TASKS)]


@contextmanager
def _worker(env: dict[str, str], worker_id: str, log: Path) -> Iterator[subprocess.Popen[str]]:
    with log.open("w") as out:
        proc = subprocess.Popen(  # noqa: S603
            [sys.executable, "-u", "manage.py", "worker", "--worker-id", worker_id,
             "--interval", "0.2"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            text=True)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _beating(db: Path, worker_id: str) -> bool:
    with sqlite3.connect(db, timeout=20) as conn:
        return bool(list(conn.execute(
            "SELECT 1 FROM core_workerheartbeat WHERE name LIKE ?", (f"%:{worker_id[:8]}",))))


def test_a_task_of_a_killed_worker_runs_again_and_sends_once(tmp_path: Path) -> None:
    db = migrated_database(tmp_path)
    with StallingSmtp() as smtp, ExitStack() as workers:
        env = base_env(tmp_path, db,
                       EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
                       EMAIL_HOST="127.0.0.1", EMAIL_PORT=str(smtp.port),
                       WORKER_HEARTBEAT_SECONDS="0.5", WORKER_STALE_SECONDS=str(LEASE_SECONDS))
        ids = {"a" * 8 + "-first": None, "b" * 8 + "-second": None}
        procs = {wid: workers.enter_context(_worker(env, wid, tmp_path / f"worker-{wid}.log"))
                 for wid in ids}
        for wid in ids:
            wait_for(lambda wid=wid: _beating(db, wid), 90, f"worker {wid} beating")

        smtp.stall.set()
        manage(env, "shell", "-c", QUEUE)
        assert smtp.stalled.wait(30), "no worker reached the SMTP server"
        status, claimed_by, args = _tasks(db)[0]
        assert status == "RUNNING" and len(claimed_by) == 1
        stuck, survivor = claimed_by[0], next(w for w in ids if w != claimed_by[0])
        message_id = args["args"][0]["message_id"]

        # Alive, the stuck worker keeps beating: past twice the lease, its task is still its.
        time.sleep(2 * LEASE_SECONDS + 0.5)
        assert _tasks(db)[0][:2] == ("RUNNING", [stuck])
        assert smtp.delivered == []

        smtp.stall.clear()
        os.kill(procs[stuck].pid, signal.SIGKILL)
        procs[stuck].wait(timeout=10)

        wait_for(lambda: _tasks(db)[0][0] == "SUCCESSFUL", 60, "the task run again")
        status, claimed_by, _args = _tasks(db)[0]
        assert claimed_by == [stuck, survivor]
        assert len(smtp.delivered) == 1
        delivered = smtp.delivered[0]
        assert delivered["Subject"] == "Message urgent de Mme Martin"
        assert delivered["Message-ID"] == message_id
        # Nothing else runs it again: a few more leases later, still one message, one task.
        time.sleep(LEASE_SECONDS + 1)
        assert len(smtp.delivered) == 1
        assert [t[0] for t in _tasks(db)] == ["SUCCESSFUL"]
        assert "queued again" in (tmp_path / f"worker-{survivor}.log").read_text()
