"""A real CalDAV server for tests and benchmarks: Radicale on loopback, a throw-away storage
folder, htpasswd (plain) authentication with one user, one calendar per `calendar_url()`.

    with radicale_server() as server:
        url = server.make_calendar("dr-martin")   # a new, empty calendar (MKCALENDAR)
        ...

`radicale` (pytest fixture, module-wide server) lives in permanence/agenda/tests."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

USER = "praticien"
PASSWORD = "secret-caldav-42"  # noqa: S105 (test-only)
START_TIMEOUT = 20.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class RadicaleServer:
    base_url: str
    user: str
    password: str
    folder: Path
    process: subprocess.Popen[bytes]

    def calendar_url(self, name: str) -> str:
        return f"{self.base_url}/{self.user}/{name}/"

    def client(self, password: str | None = None) -> Any:
        from caldav.davclient import DAVClient

        return DAVClient(url=self.base_url + "/", username=self.user,
                                password=self.password if password is None else password,
                                timeout=10)

    def make_calendar(self, name: str) -> Any:
        """A new, empty calendar `name` of the user, created with MKCALENDAR."""
        client = self.client()
        principal = client.principal()
        return principal.make_calendar(name=name, cal_id=name)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/.web/", timeout=1):  # noqa: S310 — loopback
            return True
    except urllib.error.HTTPError:
        return True  # it answers, whatever it says
    except OSError:
        return False


@contextmanager
def radicale_server(*, user: str = USER, password: str = PASSWORD) -> Iterator[RadicaleServer]:
    """Start Radicale on a free loopback port; stop it and remove its storage afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="radicale-"))
    htpasswd = folder / "users"
    htpasswd.write_text(f"{user}:{password}\n")
    port = free_port()
    log = (folder / "radicale.log").open("wb")
    process = subprocess.Popen(  # noqa: S603 — our own interpreter and fixed arguments
        [sys.executable, "-m", "radicale", "--config", "",
         "--server-hosts", f"127.0.0.1:{port}",
         "--storage-filesystem-folder", str(folder / "collections"),
         "--auth-type", "htpasswd", "--auth-htpasswd-filename", str(htpasswd),
         "--auth-htpasswd-encryption", "plain", "--auth-delay", "0",
         "--rights-type", "owner_only", "--logging-level", "warning"],
        stdout=log, stderr=subprocess.STDOUT)
    server = RadicaleServer(f"http://127.0.0.1:{port}", user, password, folder, process)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not _answers(server.base_url):
            if process.poll() is not None:
                raise RuntimeError("Radicale exited: "
                                   + (folder / "radicale.log").read_text(errors="replace"))
            if time.monotonic() > deadline:
                raise RuntimeError("Radicale did not answer in time")
            time.sleep(0.05)
        yield server
    finally:
        server.stop()
        log.close()
        shutil.rmtree(folder, ignore_errors=True)
