"""The call events pump: one thread per process that processes the stored call events.

The webhook stores an event (one INSERT, committed) and answers; `pump_kick()` wakes this
process's pump, which takes every unprocessed event — its own and any other's — and
processes their calls in batches (`processing.events_process_batch`): alone, an event is processed
within a few milliseconds (the screen pop does not wait); in a burst, hundreds at a time,
with a handful of queries per batch instead of a dozen per event.

Several processes may pump at once: a batch locks its calls with SKIP LOCKED and leaves those
another pump holds; those are retried a moment later, once the other pump has committed. The
thread ends after IDLE_EXIT seconds without work (its database connection closed) and the
next kick starts another. A crash loses nothing: unprocessed events stay stored and the
scheduler's sweep (`desk.process_events`) processes what is older than 30 s."""

from __future__ import annotations

import logging
import os
import threading
import time

from django.db import close_old_connections, connection

from .processing import events_process_batch

logger = logging.getLogger(__name__)

IDLE_EXIT = 30.0  # seconds without an event after which the thread ends
RETRY_SKIPPED = 0.005  # seconds before retrying calls another pump held
MAX_IDLE_RETRIES = 200  # retries that processed nothing (about a second) before giving up
# Seconds the pump lets events gather after a wake-up before taking them: alone, an event
# waits that long (the screen pop's budget is 100 ms); in a burst, each batch then holds
# dozens of events, which share the batch's queries.
GATHER = float(os.environ.get("TELEPHONY_PUMP_GATHER", "0.02"))
ERROR_PAUSE = 1.0

_lock = threading.Lock()
_wake = threading.Event()
_threads: list[threading.Thread] = []  # this process's pump, while it runs


def pump_kick() -> None:
    """An event was stored: process it (and whatever else is pending) in this process's
    pump, started if need be."""
    _wake.set()
    with _lock:
        if not any(t.is_alive() for t in _threads):
            _threads[:] = [threading.Thread(target=_run, name="desk-call-events", daemon=True)]
            _threads[0].start()


def pump_drain() -> int:
    """Process everything pending now, in this thread (also the pump's loop body). Returns
    the number of calls processed. Calls another pump holds are retried a moment later, for
    a second at most (then that pump, or the sweep, finishes them)."""
    done, idle_retries = 0, 0
    while True:
        processed, skipped = events_process_batch()
        done += processed
        if not skipped and not processed:
            return done
        idle_retries = 0 if processed else idle_retries + 1
        if idle_retries > MAX_IDLE_RETRIES:
            return done
        if skipped:
            time.sleep(RETRY_SKIPPED)


def _run() -> None:
    try:
        while _wake.wait(timeout=IDLE_EXIT):
            time.sleep(GATHER)
            _wake.clear()
            try:
                pump_drain()
            except Exception:  # the database went away, a bug: the sweep is the safety net
                logger.exception("processing the call events failed")
                connection.close()
                time.sleep(ERROR_PAUSE)
                _wake.set()
    finally:
        with _lock:
            if threading.current_thread() in _threads:
                _threads.clear()
        close_old_connections()
        connection.close()
        # Kicked while ending: the kick saw this thread alive and started none.
        if _wake.is_set():
            pump_kick()
