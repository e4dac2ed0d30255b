"""The Redis cache with Redis down: misses and skipped writes, never an exception; Redis
back, a real cache again (core/resilient_cache.py). Against a Redis of the test's own."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from permanence.core import resilient_cache
from permanence.core.resilient_cache import ResilientRedisCache
from testkit.faults import redis_server

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None and not os.environ.get("CI"),
                                reason="redis-server not installed (Debian package)")


def test_down_means_misses_then_back_means_a_cache(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(resilient_cache, "RETRY_SECONDS", 0.0)  # retry at once, for the test
    with redis_server(tmp_path / "redis") as redis:
        cache = ResilientRedisCache(redis.url, {"OPTIONS": {"socket_connect_timeout": 1,
                                                            "socket_timeout": 1}})
        cache.set("k", "v")
        assert cache.get("k") == "v"
        assert cache.add("k", "other") is False

        redis.stop()
        assert cache.get("k", "défaut") == "défaut"
        assert cache.get_many(["k"]) == {}
        cache.set("k", "w")  # skipped, no exception
        assert cache.add("first", 1) is True  # "is it the first time?": yes
        with pytest.raises(ValueError):
            cache.incr("counter")
        assert cache.delete("k") is False

        redis.start()
        cache.set("k", "x")
        assert cache.get("k") == "x"
        assert cache.add("k", "y") is False
