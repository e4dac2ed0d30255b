"""A fixed-window rate limit per client IP, counted in the shared cache (public forms)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache


@dataclass(frozen=True)
class FixedWindowLimit:
    """At most `limit` accepted submissions per IP per `window` seconds; both overridable in
    settings as <SETTING>_RATE_LIMIT / <SETTING>_RATE_WINDOW. The window starts with the
    first submission."""

    prefix: str
    setting: str
    limit: int = 5
    window: int = 10 * 60

    def _settings(self) -> tuple[int, int]:
        return (int(getattr(settings, f"{self.setting}_RATE_LIMIT", self.limit)),
                int(getattr(settings, f"{self.setting}_RATE_WINDOW", self.window)))

    def _key(self, ip: str) -> str:
        # Hashed: cache keys stay short and portable whatever the address looks like.
        return f"{self.prefix}:rate:" + hashlib.sha256(ip.encode()).hexdigest()[:32]

    def exceeded(self, ip: str) -> bool:
        """True when this address already used up its submissions for the current window."""
        limit, _window = self._settings()
        return int(cache.get(self._key(ip), 0)) >= limit

    def hit(self, ip: str) -> None:
        _limit, window = self._settings()
        key = self._key(ip)
        if cache.add(key, 1, timeout=window):
            return
        try:
            cache.incr(key)
        except ValueError:  # expired between add() and incr()
            cache.set(key, 1, timeout=window)

    def retry_after_seconds(self) -> int:
        return self._settings()[1]
