"""The agenda: free-slot search at volume and booking under contention.

- Seed (once, found again on later runs): one account, 3 resources (Mon-Fri 09:00-12:00 and
  14:00-18:00, Europe/Paris), a 20-minute type (+5 minutes after) taken by the 3, and
  BENCH_AGENDA_PER_RESOURCE (default 5,000) appointments per resource on the type's grid,
  from 13 months ago to 3 months ahead (bulk_create; past ones honoured, some cancelled or
  absent, future ones confirmed with gaps).
- Slot search for that type over the next 3 months across the 3 resources: selectors.slots
  and GET /api/v1/agenda/slots (django test Client, Bearer token), BENCH_AGENDA_RUNS
  (default 50) runs each: p50 / p95 and queries per search. Target p95 < 50 ms.
- Booking under contention: BENCH_AGENDA_THREADS (default 8) threads each making
  BENCH_AGENDA_ATTEMPTS (default 20) bookings through services.appointment_book of random
  slots among the first 40 free ones: bookings/s, conflicts (409 slot_taken), and a check
  that no two active appointments of a resource overlap. The bookings are deleted after.

`python -m bench agenda` (or `make bench BENCH=agenda`) runs it alone."""

from __future__ import annotations

import os
import random
import threading
import time
import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from .stats import percentile, summary_ms

PER_RESOURCE = int(os.environ.get("BENCH_AGENDA_PER_RESOURCE", "5000"))
RUNS = int(os.environ.get("BENCH_AGENDA_RUNS", "50"))
THREADS = int(os.environ.get("BENCH_AGENDA_THREADS", "8"))
ATTEMPTS = int(os.environ.get("BENCH_AGENDA_ATTEMPTS", "20"))
PARIS = ZoneInfo("Europe/Paris")
HOURS = [["09:00", "12:00"], ["14:00", "18:00"]]
WEEKLY = {d: (HOURS if d not in ("sat", "sun") else [])
          for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
SLUG = "bench-agenda"
CONTENDER = "Bench contention"


def _grid(day: datetime, step: timedelta, duration: timedelta) -> list[datetime]:
    """The type's starts in one day's openings (local time)."""
    out = []
    for a, b in HOURS:
        t = day.replace(hour=int(a[:2]), minute=int(a[3:]))
        end = day.replace(hour=int(b[:2]), minute=int(b[3:]))
        while t + duration <= end:
            out.append(t)
            t += step
    return out


def seed() -> tuple[Any, Any, list[Any]]:
    """(supervisor, type, resources)."""
    from permanence.accounts.models import ClientAccount, Role, User
    from permanence.agenda import services
    from permanence.agenda.models import Appointment, AppointmentType, Resource
    from permanence.core import clock

    supervisor = User.objects.filter(email="bench-sup@permanence.test").first() or \
        User.objects.create_user("bench-sup@permanence.test", None, role=Role.SUPERVISOR)
    account, _created = ClientAccount.objects.get_or_create(
        slug=SLUG, defaults={"name": "Bench Cabinet médical", "status": "actif"})
    resources = list(Resource.objects.filter(account=account).order_by("pk"))
    for i in range(len(resources), 3):
        resources.append(services.resource_create(
            actor=supervisor, account_id=account.pk,
            data={"name": f"Dr Bench {i + 1}", "timezone": "Europe/Paris", "weekly": WEEKLY}))
    kind = AppointmentType.objects.filter(account=account, name="Consultation").first()
    if kind is None:
        kind = services.type_create(actor=supervisor, account_id=account.pk, data={
            "name": "Consultation", "duration_minutes": 20, "buffer_after_minutes": 5,
            "min_notice_minutes": 60, "horizon_days": 120, "online": True},
            resource_ids=[r.pk for r in resources])
    Appointment.objects.filter(account=account, contact_name__startswith=CONTENDER).delete()
    rng = random.Random(42)  # reproducible data, not security
    duration = timedelta(minutes=kind.duration_minutes)
    step = duration + timedelta(minutes=kind.buffer_after_minutes)
    now = clock.now()
    today = now.astimezone(PARIS).replace(hour=0, minute=0, second=0, microsecond=0)
    days = [today + timedelta(days=d) for d in range(-400, 93)]
    days = [d for d in days if d.weekday() < 5]
    for resource in resources:
        have = Appointment.objects.filter(resource=resource).count()
        if have >= PER_RESOURCE:
            continue
        starts = [t for d in days for t in _grid(d, step, duration)]
        chosen = sorted(rng.sample(starts, min(PER_RESOURCE - have, len(starts))))
        rows = []
        for t in chosen:
            utc_start = t.astimezone(ZoneInfo("UTC"))
            past = utc_start < now
            status = (rng.choices(["honoured", "no_show", "cancelled"], [90, 4, 6])[0]
                      if past else rng.choices(["confirmed", "cancelled"], [94, 6])[0])
            rows.append(Appointment(
                account=account, resource=resource, type=kind, start=utc_start,
                end=utc_start + duration, block_start=utc_start,
                block_end=utc_start + step, status=status, origin="secretariat",
                contact_name=f"Patient {rng.randrange(10**6):06d}",
                contact_phone=f"+336{rng.randrange(10**8):08d}", uid=f"{uuid.uuid4()}@bench",
                created_at=utc_start - timedelta(days=rng.randrange(1, 30)),
                updated_at=utc_start - timedelta(days=1)))
        Appointment.objects.bulk_create(rows, batch_size=1000)
    from django.db import connection

    if connection.vendor == "postgresql":  # fresh statistics, as autovacuum would give
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE agenda_appointment")
    return supervisor, kind, resources


def _timed(fn: Any, runs: int) -> tuple[list[float], int, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    result = fn()  # warm-up
    with CaptureQueriesContext(connection) as ctx:
        fn()
    queries = len(ctx.captured_queries)
    timings = []
    for _ in range(runs):
        t = time.perf_counter()
        result = fn()
        timings.append((time.perf_counter() - t) * 1000)
    return timings, queries, result


def _contention(supervisor: Any, kind: Any, candidates: list[datetime]) -> dict[str, Any]:
    from django.db import connections

    from permanence.agenda import services
    from permanence.agenda.models import Appointment
    from permanence.core.errors import DomainError

    counts = {"booked": 0, "slot_taken": 0, "other": 0}
    lock = threading.Lock()
    barrier = threading.Barrier(THREADS)

    def worker(n: int) -> None:
        rng = random.Random(n)
        try:
            barrier.wait()
            for i in range(ATTEMPTS):
                start = rng.choice(candidates)
                try:
                    services.appointment_book(
                        actor=supervisor, kind=kind, start=start,
                        booking=services.Booking(contact=services.Contact(
                            name=f"{CONTENDER} {n}-{i}")))
                    key = "booked"
                except DomainError as exc:
                    key = "slot_taken" if exc.code == "slot_taken" else "other"
                with lock:
                    counts[key] += 1
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    booked = list(Appointment.objects.filter(contact_name__startswith=CONTENDER,
                                             status="confirmed")
                  .values_list("resource_id", "block_start", "block_end"))
    overlaps = sum(1 for i, a in enumerate(booked) for b in booked[i + 1:]
                   if a[0] == b[0] and a[1] < b[2] and b[1] < a[2])
    Appointment.objects.filter(contact_name__startswith=CONTENDER).delete()
    return {"attempts": THREADS * ATTEMPTS, "elapsed_s": round(elapsed, 2),
            "bookings_per_s": round(counts["booked"] / elapsed, 1),
            "attempts_per_s": round(THREADS * ATTEMPTS / elapsed, 1), **counts,
            "overlaps": overlaps}


def run_agenda_bench() -> dict[str, Any]:
    from django.test import Client

    from permanence.accounts.services import api_token_create
    from permanence.agenda import selectors
    from permanence.agenda.models import Appointment
    from permanence.core import clock

    print(f"\n== Agenda: slot search over 3 months × 3 resources, {PER_RESOURCE} "
          "appointments per resource ==")
    t0 = time.perf_counter()
    supervisor, kind, resources = seed()
    total = Appointment.objects.filter(resource__in=resources).count()
    print(f"  seeded in {time.perf_counter() - t0:.1f} s ({total} appointments)")
    now = clock.now()
    start, end = now, now + timedelta(days=92)
    timings, queries, found = _timed(lambda: selectors.slots(kind, start, end), RUNS)
    print(f"  selectors.slots: {summary_ms(timings)}; {queries} queries; "
          f"{len(found)} free slots")
    _tok, raw = api_token_create(actor=supervisor, user=supervisor, name="bench-agenda")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}", HTTP_HOST="127.0.0.1")
    params = {"type": kind.pk, "from": start.astimezone(PARIS).isoformat(),
              "to": end.astimezone(PARIS).isoformat()}

    def http() -> Any:
        response = client.get("/api/v1/agenda/slots", params)
        assert response.status_code == 200, response.content[:300]
        return response

    api_timings, api_queries, response = _timed(http, RUNS)
    print(f"  GET /api/v1/agenda/slots: {summary_ms(api_timings)}; {api_queries} queries; "
          f"{len(response.json()['slots'])} slots, {len(response.content) // 1024} KiB")
    soon = sorted({s.start for s in found})[:40]
    contention = _contention(supervisor, kind, soon)
    print(f"  booking under contention ({THREADS} threads × {ATTEMPTS}, 40 slots): "
          f"{contention}")
    return {
        "appointments": total, "free_slots": len(found),
        "slots_p50_ms": round(percentile(timings, 50), 1),
        "slots_p95_ms": round(percentile(timings, 95), 1), "slots_queries": queries,
        "api_p50_ms": round(percentile(api_timings, 50), 1),
        "api_p95_ms": round(percentile(api_timings, 95), 1), "api_queries": api_queries,
        "contention": contention,
    }


def run() -> list[tuple[str, str, str, bool]]:
    """`make bench` convention: [(name, value, target, ok), ...]."""
    r = run_agenda_bench()
    c = r["contention"]
    return [
        ("agenda slots 3 months × 3 resources p95 (selector)", f"{r['slots_p95_ms']} ms",
         "< 50 ms", r["slots_p95_ms"] < 50),
        ("agenda GET /api/v1/agenda/slots p95", f"{r['api_p95_ms']} ms", "< 50 ms",
         r["api_p95_ms"] < 50),
        ("agenda slot search queries (selector / API)",
         f"{r['slots_queries']} / {r['api_queries']}", "constant, ≤ 10",
         r["api_queries"] <= 10),
        ("agenda bookings under contention", f"{c['bookings_per_s']}/s, {c['slot_taken']} "
         f"conflicts, {c['overlaps']} overlaps", "0 overlaps", c["overlaps"] == 0),
    ]

