"""The Redis cache, made to degrade instead of failing when Redis is down.

Everything this project keeps in the cache can be recomputed or lost: counters shown in the
navigation, rendered PDFs, presence and typing indicators, the rate limits' counters, the
de-duplication window of view audits. So with Redis unreachable, a cache read is a miss and a
write is skipped, and the page is served from the database — Django's own RedisCache would
raise instead and every page using the cache would answer 500.

- One warning when Redis stops answering, one line when it answers again; in between, calls
  do not even try for RETRY_SECONDS (a circuit breaker), so an outage costs each process one
  failed connection every few seconds, not one per cache call. Short socket timeouts
  (settings: CACHES OPTIONS) bound what a Redis that hangs rather than refuses can cost.
- `add()` answers True during an outage: its callers ask "is this the first time?" (a view to
  audit, a rate limit's first hit) and the safe answer is yes — a view audited twice rather
  than not at all, a rate limit that lets through rather than locks everyone out.
- `incr()` raises ValueError, as for a missing key: callers already handle that case.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ReadOnlyError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

RETRY_SECONDS = 5.0
# What "Redis is unavailable" looks like: refused, reset, timed out, or a read-only replica.
UNAVAILABLE = (RedisConnectionError, RedisTimeoutError, ReadOnlyError, OSError)
T = TypeVar("T")


class _Breaker:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.down_until = 0.0
        self.down = False

    def open(self) -> bool:
        return self.down and time.monotonic() < self.down_until

    def failed(self, exc: BaseException) -> None:
        with self.lock:
            if not self.down:
                logger.warning("Redis cache unavailable, serving without it: %s", exc)
            self.down = True
            self.down_until = time.monotonic() + RETRY_SECONDS

    def succeeded(self) -> None:
        if self.down:
            with self.lock:
                if self.down:
                    logger.warning("Redis cache available again")
                self.down = False


# One breaker per Redis location and process: Django builds a cache object per thread.
_breakers: dict[tuple[str, ...], _Breaker] = {}
_breakers_lock = threading.Lock()


def _breaker_for(servers: Any) -> _Breaker:
    key = tuple(servers)
    with _breakers_lock:
        return _breakers.setdefault(key, _Breaker())


class ResilientRedisCacheClient(RedisCacheClient):
    def __init__(self, servers: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(servers, *args, **kwargs)
        self._breaker = _breaker_for(servers)

    def _guard(self, call: Callable[[], T], fallback: Callable[[], T]) -> T:
        if self._breaker.open():
            return fallback()
        try:
            result = call()
        except UNAVAILABLE as exc:
            self._breaker.failed(exc)
            return fallback()
        self._breaker.succeeded()
        return result

    def add(self, key: Any, value: Any, timeout: Any) -> bool:
        return self._guard(lambda: super(ResilientRedisCacheClient, self).add(
            key, value, timeout), lambda: True)

    def get(self, key: Any, default: Any) -> Any:
        return self._guard(lambda: super(ResilientRedisCacheClient, self).get(key, default),
                           lambda: default)

    def set(self, key: Any, value: Any, timeout: Any) -> None:
        self._guard(lambda: super(ResilientRedisCacheClient, self).set(key, value, timeout),
                    lambda: None)

    def touch(self, key: Any, timeout: Any) -> bool:
        return self._guard(lambda: super(ResilientRedisCacheClient, self).touch(key, timeout),
                           lambda: False)

    def delete(self, key: Any) -> bool:
        return self._guard(lambda: super(ResilientRedisCacheClient, self).delete(key),
                           lambda: False)

    def get_many(self, keys: Any) -> dict[Any, Any]:
        return self._guard(lambda: super(ResilientRedisCacheClient, self).get_many(keys),
                           dict)

    def has_key(self, key: Any) -> bool:
        return self._guard(lambda: super(ResilientRedisCacheClient, self).has_key(key),
                           lambda: False)

    def incr(self, key: Any, delta: int) -> Any:
        def unavailable() -> Any:
            raise ValueError("cache unavailable")
        return self._guard(lambda: super(ResilientRedisCacheClient, self).incr(key, delta),
                           unavailable)

    def set_many(self, data: Mapping[Any, Any], timeout: Any) -> None:
        self._guard(lambda: super(ResilientRedisCacheClient, self).set_many(data, timeout),
                    lambda: None)

    def delete_many(self, keys: Any) -> None:
        self._guard(lambda: super(ResilientRedisCacheClient, self).delete_many(keys),
                    lambda: None)

    def clear(self) -> bool:
        return self._guard(lambda: super(ResilientRedisCacheClient, self).clear(),
                           lambda: False)


class ResilientRedisCache(RedisCache):
    """settings.CACHES backend: Django's RedisCache on the client above."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = ResilientRedisCacheClient
