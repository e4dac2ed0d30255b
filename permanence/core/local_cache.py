"""Short-lived, process-local caches of settings read on every write (calendars, SLA targets,
routing rules, webhook endpoints), so that hot paths such as mail ingestion do not query
them each time.

Correctness rules:
- A change is visible at once in the process that made it: saving or deleting a watched
  model (`watch("app.Model")`) empties every cache of the process, again when the
  transaction commits (another thread may have refilled it from the old committed rows in
  between).
- The thread that changed a watched model reads around the caches (neither reads nor fills
  them) until its transaction ends: rows it can see may still be rolled back, and must never
  be cached for other threads.
- Other processes see the change when their entry expires (`ttl()` seconds, setting
  `LOCAL_CACHE_SECONDS`, default 5; 0 disables the caches).
- Writes that send no signal (QuerySet.update, bulk_create) must call `invalidate()`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models.signals import post_delete, post_migrate, post_save
from django.test.signals import setting_changed

T = TypeVar("T")

DEFAULT_SECONDS = 5.0
_MAX_ENTRIES = 1024

_lock = threading.Lock()
_generation = 0
_local = threading.local()
_caches: list[LocalCache] = []
_watched: set[str] = set()
_ttl: float | None = None


def ttl() -> float:
    global _ttl  # noqa: PLW0603 (per-process cache settings, read on every lookup)
    if _ttl is None:
        _ttl = float(getattr(settings, "LOCAL_CACHE_SECONDS", DEFAULT_SECONDS))
    return _ttl


def invalidate() -> None:
    """Forget every cached value in this process, now and when the transaction commits;
    the current thread reads around the caches until its transaction ends."""
    _invalidate_now()
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.in_atomic_block and not _pending(connection):
        def committed() -> None:
            if getattr(_local, "dirty", None) == (connection, committed):
                _local.dirty = None
            _invalidate_now()

        transaction.on_commit(committed)
        # The callback doubles as the transaction's marker: Django drops it from
        # `run_on_commit` when the transaction (or the savepoint that registered it) ends.
        _local.dirty = (connection, committed)


def _invalidate_now() -> None:
    global _generation  # noqa: PLW0603 (per-process cache generation)
    with _lock:
        _generation += 1
        for cache in _caches:
            cache.clear()


def _pending(connection: Any) -> bool:
    """Whether this thread's open transaction has changed a watched model."""
    dirty = getattr(_local, "dirty", None)
    if dirty is None:
        return False
    dirty_connection, marker = dirty
    if dirty_connection is connection and connection.in_atomic_block and any(
            entry[1] is marker for entry in connection.run_on_commit):
        return True
    # That transaction is over (committed or rolled back), or the savepoint with the change
    # was rolled back: start afresh.
    _local.dirty = None
    _invalidate_now()
    return False


def _bypass() -> bool:
    """True while this thread's transaction has changed a watched model (or caching is off)."""
    if ttl() <= 0:
        return True
    if getattr(_local, "dirty", None) is None:
        return False
    return _pending(connections[DEFAULT_DB_ALIAS])


class LocalCache:
    """key → value for `ttl()` seconds, emptied by `invalidate()`."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._data: dict[Hashable, tuple[float, int, Any]] = {}
        with _lock:
            _caches.append(self)

    def clear(self) -> None:
        self._data.clear()

    def get_or_compute(self, key: Hashable, compute: Callable[[], T]) -> T:
        if _bypass():
            return compute()
        now = time.monotonic()
        entry = self._data.get(key)
        if entry is not None and entry[0] > now and entry[1] == _generation:
            return entry[2]  # type: ignore[no-any-return]
        generation = _generation
        value = compute()
        with _lock:
            if generation == _generation:  # not invalidated while computing
                if len(self._data) >= _MAX_ENTRIES:
                    self._data.clear()
                self._data[key] = (now + ttl(), generation, value)
        return value


def watch(*labels: str, deletes_only: bool = False) -> None:
    """Saving or deleting one of these models ("app_label.ModelName") invalidates the caches
    (only deleting, with `deletes_only`: e.g. users named by a cached row)."""
    for label in labels:
        # No early exit for a label already watched: one cache may watch a model for deletes
        # only and another for saves too (a receiver is connected once: its dispatch_uid).
        _watched.add(label)
        if not deletes_only:
            post_save.connect(_on_model_change, sender=label, weak=False,
                              dispatch_uid=f"local_cache_save_{label}")
        post_delete.connect(_on_model_change, sender=label, weak=False,
                            dispatch_uid=f"local_cache_delete_{label}")


def _on_model_change(**kwargs: Any) -> None:
    if kwargs.get("raw"):  # loaddata: still invalidate, without transaction bookkeeping
        _invalidate_now()
        return
    invalidate()


def _on_setting_changed(**kwargs: Any) -> None:
    # Tests: each test starts from its own settings and data (ids repeat once a test's
    # transaction is rolled back), so nothing cached by a previous test may be reused.
    global _ttl  # noqa: PLW0603 (per-process cache settings, read on every lookup)
    _ttl = None
    _local.dirty = None
    _invalidate_now()


def _on_post_migrate(**kwargs: Any) -> None:
    _invalidate_now()  # also sent after a flush (transactional tests)


setting_changed.connect(_on_setting_changed, dispatch_uid="local_cache_setting_changed")
post_migrate.connect(_on_post_migrate, dispatch_uid="local_cache_post_migrate")
