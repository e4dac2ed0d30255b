"""CalDAV sync of a busy agenda against a real Radicale on loopback (testkit/radicale.py).

A resource with BENCH_AGENDA_SYNC_N (default 1,000) confirmed appointments waiting to be
pushed; then: the first sync (full: every event PUT with If-None-Match, the calendar listed),
an incremental sync with nothing new (one sync-collection REPORT; our own pushes are
recognised by their ETag and not read back), and an incremental sync after 50 moves here
and 50 busy events created there. Figures: seconds and events per second."""

from __future__ import annotations

import os
import time
import uuid
from datetime import timedelta
from typing import Any

N = int(os.environ.get("BENCH_AGENDA_SYNC_N", "1000"))
TARGET_PUSH_PER_S = 5.0  # Radicale's own write path is the limit (see the report)
TARGET_INCREMENTAL_S = 5.0


def _seed(n: int, caldav_url: str, user: str, password: str) -> Any:
    from permanence.accounts.models import ClientAccount
    from permanence.agenda import crypto
    from permanence.agenda.models import Appointment, AppointmentType, Resource
    from permanence.core import clock

    account, _created = ClientAccount.objects.get_or_create(
        slug="bench-agenda-sync", defaults={"name": "Bench agenda sync", "status": "actif"})
    for old in Resource.objects.filter(account=account):
        Appointment.objects.filter(resource=old).delete()
        old.delete()
    AppointmentType.objects.filter(account=account).delete()
    resource = Resource.objects.create(
        account=account, name="Dr Bench", caldav_url=caldav_url, caldav_username=user,
        caldav_password_encrypted=crypto.encrypt(password))
    kind = AppointmentType.objects.create(account=account, name="Consultation",
                                          duration_minutes=30)
    kind.resources.add(resource)
    now = clock.now()
    first = now.replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
    rows = []
    for i in range(n):
        start = first + timedelta(hours=i)
        end = start + timedelta(minutes=30)
        rows.append(Appointment(
            account=account, resource=resource, type=kind, start=start, end=end,
            block_start=start, block_end=end, status="confirmed",
            contact_name=f"Patient {i:05d}", contact_phone="+33612345678",
            uid=f"{uuid.uuid4()}@permanence", sync_pending=True, created_at=now,
            updated_at=now))
    Appointment.objects.bulk_create(rows, batch_size=500)
    return resource


def _timed(resource_id: int) -> tuple[float, dict[str, Any]]:
    from permanence.agenda.caldav_sync import resource_sync

    t = time.perf_counter()
    result = resource_sync(resource_id)
    return time.perf_counter() - t, result


def run_sync_bench(n: int = N) -> dict[str, Any]:
    """Seed `n` appointments, start Radicale, time a full first push and incremental syncs."""
    from permanence.agenda.models import Appointment
    from permanence.core import clock
    from testkit.radicale import radicale_server

    with radicale_server() as server:
        calendar = server.make_calendar("bench")
        resource = _seed(n, str(calendar.url), server.user, server.password)
        full_s, full = _timed(resource.pk)
        if full.get("error"):
            raise RuntimeError(full["error"])
        idle_s, idle = _timed(resource.pk)
        # 50 moves here (an hour later, still on their own hour) and 50 busy events there.
        now = clock.now()
        moved = list(Appointment.objects.filter(resource=resource).order_by("start")[:50])
        for appointment in moved:
            appointment.start += timedelta(minutes=30)
            appointment.end += timedelta(minutes=30)
            appointment.block_start, appointment.block_end = appointment.start, appointment.end
            appointment.sequence += 1
            appointment.sync_pending = True
            appointment.updated_at = now
        Appointment.objects.bulk_update(moved, ["start", "end", "block_start", "block_end",
                                                "sequence", "sync_pending", "updated_at"])
        base = now + timedelta(days=60)
        for i in range(50):
            start = (base + timedelta(hours=i)).strftime("%Y%m%dT%H%M%SZ")
            end = (base + timedelta(hours=i, minutes=45)).strftime("%Y%m%dT%H%M%SZ")
            calendar.save_event(
                "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Bench//EN\r\nBEGIN:VEVENT\r\n"
                f"UID:busy-{i}@bench\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:{start}\r\n"
                f"DTEND:{end}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
        changed_s, changed = _timed(resource.pk)
    figures = {
        "n": n,
        "full_push_s": round(full_s, 3), "full_push_per_s": round(n / full_s, 1),
        "full": full,
        "incremental_idle_s": round(idle_s, 3), "incremental_idle": idle,
        "incremental_100_changes_s": round(changed_s, 3),
        "incremental_changes_per_s": round(100 / changed_s, 1),
        "incremental_changes": changed,
    }
    print(f"agenda sync: full first push of {n} events in {full_s:.2f} s "
          f"({n / full_s:.0f} events/s) {full}")
    print(f"agenda sync: incremental, nothing new: {idle_s:.3f} s {idle}")
    print(f"agenda sync: incremental, 50 moves here + 50 events there: {changed_s:.3f} s "
          f"({100 / changed_s:.0f} events/s) {changed}")
    return figures


def run() -> list[tuple[str, str, str, bool]]:
    """The `make bench` shape: [(name, value, target, ok), ...]."""
    f = run_sync_bench(N)
    return [
        (f"agenda CalDAV first push ({f['n']} events)",
         f"{f['full_push_s']} s, {f['full_push_per_s']} events/s",
         f">= {TARGET_PUSH_PER_S:.0f} events/s", f["full_push_per_s"] >= TARGET_PUSH_PER_S),
        ("agenda CalDAV incremental sync (nothing new)", f"{f['incremental_idle_s']} s",
         f"< {TARGET_INCREMENTAL_S} s", f["incremental_idle_s"] < TARGET_INCREMENTAL_S),
        ("agenda CalDAV incremental sync (100 changes)",
         f"{f['incremental_100_changes_s']} s", f"< {TARGET_INCREMENTAL_S} s",
         f["incremental_100_changes_s"] < TARGET_INCREMENTAL_S),
    ]
