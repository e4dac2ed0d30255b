"""The issue's proof: twenty people booking one slot at the same instant get one booking and
nineteen "slot taken" — through the service and through the HTTP API, on the real database
(PostgreSQL: the exclusion constraint; SQLite: its one writer at a time)."""

from __future__ import annotations

import http.client
import json
import threading
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.db import connections

from permanence.agenda import services
from permanence.agenda.models import Appointment, AppointmentStatus
from permanence.core import clock
from permanence.core.errors import DomainError

from .conftest import paris

N = 20
BEFORE = paris(2027, 2, 26, 18)
SLOT = paris(2027, 3, 1, 9)  # Monday 09:00, inside the resource's hours


def _race(work: Any) -> list[Any]:
    """Run work(i) in N threads released together; each thread's result (or exception)."""
    barrier = threading.Barrier(N, timeout=30)
    results: list[Any] = [None] * N

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as exc:  # reported to the test below
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(N)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a booking thread hung"
    return results


@pytest.mark.django_db(transaction=True)
def test_twenty_threads_one_slot_through_the_service(kind: Any, agent: Any) -> None:
    def book(i: int) -> str:
        try:
            services.appointment_book(
                actor=agent, kind=kind, start=SLOT,
                booking=services.Booking(contact=services.Contact(name=f"Personne {i}")))
        except DomainError as exc:
            return exc.code
        return "booked"

    with clock.frozen(BEFORE):
        outcomes = Counter(str(r) for r in _race(book))
    assert outcomes == {"booked": 1, "slot_taken": N - 1}, outcomes
    assert Appointment.objects.filter(status=AppointmentStatus.CONFIRMED).count() == 1


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_posts_one_201(live_server: Any, kind: Any, agent: Any) -> None:
    from permanence.accounts.services import api_token_create

    _token, raw = api_token_create(actor=agent, user=agent, name="concurrence")
    url = urlsplit(live_server.url)

    def post(i: int) -> tuple[int, str]:
        body = json.dumps({"type": kind.pk, "start": SLOT.isoformat(),
                           "contact": {"name": f"Personne {i}", "phone": "+33612345678"}})
        conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=60)
        try:
            conn.request("POST", "/api/v1/agenda/appointments", body=body, headers={
                "Authorization": f"Bearer {raw}", "Content-Type": "application/json"})
            response = conn.getresponse()
            data = json.loads(response.read() or b"{}")
            return response.status, str(data.get("code", ""))
        finally:
            conn.close()

    with clock.frozen(BEFORE):
        results = _race(post)
    outcomes = Counter(r if isinstance(r, tuple) else repr(r) for r in results)
    assert outcomes == {(201, ""): 1, (409, "slot_taken"): N - 1}, outcomes
    assert Appointment.objects.filter(status=AppointmentStatus.CONFIRMED).count() == 1
