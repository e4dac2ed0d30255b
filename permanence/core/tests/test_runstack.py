"""`manage.py runstack` (`make demo`) as a supervisor, with real processes: a dead child is
restarted and the others keep serving; no child outlives the supervisor, even killed with
SIGKILL; a busy port is one clear sentence and a non-zero exit; SITE_URL follows PORT."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from permanence.core.management.commands import runstack
from testkit.stack import (
    ROOT,
    alive,
    base_env,
    child_pids,
    free_port,
    manage,
    migrated_database,
    running_stack,
    wait_until,
)

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux /proc")


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _child(supervisor: int, word: str) -> int | None:
    return next((pid for pid in child_pids(supervisor) if word in _cmdline(pid)), None)


def _healthz(url: str) -> int:
    with urllib.request.urlopen(url + "/healthz", timeout=5) as response:  # noqa: S310
        return int(response.status)


def test_site_url_follows_port_unless_set(tmp_path: Path) -> None:
    env = base_env(tmp_path, tmp_path / "unused.sqlite3")

    def site_url(**extra: str) -> str:
        out = manage({**env, **extra}, "shell", "--no-imports", "-c",
                     "from django.conf import settings; print(settings.SITE_URL)")
        return out.strip().splitlines()[-1]

    assert site_url(PORT="8080") == "http://127.0.0.1:8080"
    assert site_url(PORT="8080", HOST="0.0.0.0") == "http://127.0.0.1:8080"  # noqa: S104
    assert site_url(PORT="8080", SITE_URL="https://permanence.example.fr/") == \
        "https://permanence.example.fr"
    assert site_url() == "http://127.0.0.1:8000"


def test_runstack_gives_its_children_the_site_url_and_the_relay(monkeypatch: pytest.MonkeyPatch,
                                                                 settings: Any) -> None:
    settings.REDIS_URL = ""  # with Redis, no relay: channels_redis carries the pushes
    monkeypatch.delenv("SITE_URL", raising=False)
    env = runstack.child_env("0.0.0.0", 8080)  # noqa: S104
    assert env["SITE_URL"] == "http://127.0.0.1:8080"
    assert "LIVE_RELAY_URL" not in runstack.env_for("web", env, "0.0.0.0", 8080)  # noqa: S104
    assert runstack.env_for("mailgateway", env, "0.0.0.0", 8080)[  # noqa: S104
        "LIVE_RELAY_URL"] == "http://127.0.0.1:8080"
    monkeypatch.setenv("SITE_URL", "https://permanence.example.fr")
    assert runstack.child_env("127.0.0.1", 8080)["SITE_URL"] == "https://permanence.example.fr"


@pytest.mark.parametrize("variable", ["PORT", "MAILGATEWAY_PORT", "STRIPE_STANDIN_PORT"])
def test_a_busy_port_is_one_clear_sentence_and_a_non_zero_exit(tmp_path: Path,
                                                                variable: str) -> None:
    ports = {"PORT": free_port(), "MAILGATEWAY_PORT": free_port(),
             "STRIPE_STANDIN_PORT": free_port()}
    env = base_env(tmp_path, tmp_path / "unused.sqlite3",
                   **{k: str(v) for k, v in ports.items()})
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", ports[variable]))
        squatter.listen()
        done = subprocess.run(  # noqa: S603
            [sys.executable, "manage.py", "runstack", "--port", str(ports["PORT"])], cwd=ROOT,
            env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode != 0
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"Le port {ports[variable]} est déjà utilisé : lancez avec "
                               f"{variable}="), lines[0]
    assert lines[0].endswith(" make demo")
    assert "started" not in done.stdout


def test_a_killed_child_is_restarted_and_the_others_keep_serving(tmp_path: Path) -> None:
    env = base_env(tmp_path, migrated_database(tmp_path))
    with running_stack(tmp_path, env) as stack:
        supervisor = stack.proc.pid
        worker = wait_until(lambda: _child(supervisor, " worker"), 30, "the worker", stack)
        web = _child(supervisor, "uvicorn")
        os.kill(worker, signal.SIGKILL)
        # The web process serves throughout; a new worker appears (after 1 s of back-off).
        deadline = time.monotonic() + 20
        restarted = None
        while time.monotonic() < deadline and restarted is None:
            assert _healthz(stack.url) == 200
            new = _child(supervisor, " worker")
            restarted = new if new not in (None, worker) else None
            time.sleep(0.2)
        assert restarted is not None, stack.output()
        assert _child(supervisor, "uvicorn") == web
        assert stack.proc.poll() is None
        assert "worker exited with code" in stack.output()
        assert "restarted worker" in stack.output()


def test_no_child_outlives_a_supervisor_killed_with_sigkill(tmp_path: Path) -> None:
    env = base_env(tmp_path, migrated_database(tmp_path))
    with running_stack(tmp_path, env) as stack:
        supervisor = stack.proc.pid
        wait_until(lambda: len(child_pids(supervisor)) >= 5, 30, "every child", stack)
        children = child_pids(supervisor)
        names = {pid: _cmdline(pid) for pid in children}
        assert any("stripe_standin" in n for n in names.values()), names
        os.kill(supervisor, signal.SIGKILL)
        stack.proc.wait(timeout=5)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and any(alive(p) for p in children):
            time.sleep(0.2)
        survivors = {pid: names[pid] for pid in children if alive(pid)}
        assert not survivors, survivors
        # Their ports are free again: the next `make demo` starts.
        for port in (stack.port, stack.smtp_port, int(stack.env["STRIPE_STANDIN_PORT"])):
            assert runstack.port_is_free("127.0.0.1", port)
