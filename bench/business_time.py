"""Business-time computation cost (µs per call)."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")


def _per_call_us(fn, n: int) -> float:  # type: ignore[no-untyped-def]
    fn()  # warm caches (holiday tables)
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n * 1e6


def run() -> list[tuple[str, str, str, bool]]:
    from permanence.core.business_time import CalendarSpec, add_business_time, business_time_between

    spec = CalendarSpec.from_json({
        "timezone": "Europe/Paris",
        "weekly": {d: [["08:30", "12:30"], ["14:00", "18:00"]] for d in
                   ("mon", "tue", "wed", "thu", "fri")} | {"sat": [], "sun": []},
        "holidays": "FR",
        "closures": [{"start": "2026-12-24T12:00:00+01:00", "end": "2026-12-28T08:00:00+01:00",
                      "message": "Fermeture de fin d'année"}],
    })
    start = datetime(2026, 12, 22, 16, 45, tzinfo=PARIS)
    print("\n== Business time ==")
    out = []
    for hours in (2, 24, 72):
        us = _per_call_us(lambda h=hours: add_business_time(spec, start, timedelta(hours=h)),
                          2000)
        print(f"  add {hours:>2} business hours across Christmas: {us:7.1f} µs/call")
        out.append((f"add_business_time {hours} h", f"{us:.1f} µs", "< 100 µs", us < 100))
    end = start + timedelta(days=30)
    us = _per_call_us(lambda: business_time_between(spec, start, end), 2000)
    print(f"  business time over 30 calendar days: {us:7.1f} µs/call")
    out.append(("business_time_between 30 days", f"{us:.1f} µs", "< 200 µs", us < 200))
    return out
