"""Call events processed in the background (TELEPHONY_PROCESSING=background, the default):
the webhook answers once the event is stored, the pump of the process processes it; a batch
of calls reads its events, numbers and agents once; two pumps at once process each event
once (PostgreSQL: SKIP LOCKED)."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from permanence.accounts.models import User
from permanence.desk import calls, processing, pump
from permanence.desk.models import Call, Callback, CallEvent, CallOutcome, CallState

from .calls_helpers import event, number_account, post


def _wait_processed(timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while CallEvent.objects.filter(processed_at__isnull=True).exists():
        assert time.monotonic() < deadline, "events still unprocessed"
        time.sleep(0.02)


@pytest.fixture
def quick_pump(monkeypatch: Any) -> Any:
    """The pump's thread ends soon after its work (it holds a database connection)."""
    monkeypatch.setattr(pump, "IDLE_EXIT", 0.2)
    yield
    for thread in list(pump._threads):
        thread.join(5)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("quick_pump")
def test_the_webhook_answers_once_stored_and_the_pump_processes(
        client: Any, account: Any, settings: Any) -> None:
    settings.TELEPHONY_PROCESSING = "background"
    number_account(account)
    for data in (event("ringing"), event("hangup", at=12, cause="caller_abandoned")):
        response = post(client, data)
        assert response.status_code == 200, response.content
        assert response.json()["received"] is True
        assert response.json()["call"] is None  # not processed by the request
    _wait_processed()
    call = Call.objects.get(call_id="c1")
    assert call.state == CallState.ENDED and call.outcome == CallOutcome.ABANDONED
    assert call.account == account
    assert Callback.objects.get(call=call).status == "a_faire"
    # A redelivery after processing: acknowledged as a duplicate, nothing more.
    again = post(client, event("ringing"))
    assert again.json()["duplicate"] is True
    assert CallEvent.objects.count() == 2 and Callback.objects.count() == 1


@pytest.mark.django_db
def test_a_batch_reads_events_numbers_and_agents_once(account: Any) -> None:
    number_account(account)
    User.objects.create_user("agent-b@test.fr", None, role="agent")
    for i in range(12):
        for name, at, extra in (("ringing", 0, {}), ("answered", 5, {"agent": "Agent-B@test.fr"}),
                                ("hangup", 60, {"cause": "completed", "talk_s": 55})):
            data = event(name, call_id=f"b{i}", at=at, **extra)
            calls.event_receive(calls.event_parse(data), payload=data, process=False)
    with CaptureQueriesContext(connection) as ctx:
        assert processing.events_process_batch() == (12, 0)
    reads = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith("SELECT")]
    for table in ("desk_callevent", "accounts_contactchannel", "accounts_user"):
        # The pending call ids, the calls' events; then the numbers and the agents: once each
        # for the twelve calls, not once per call.
        hits = [s for s in reads if s.split(" FROM ")[1].split()[0].strip('"') == table]
        assert len(hits) <= (3 if table == "desk_callevent" else 1), (table, hits)
    assert Call.objects.filter(outcome=CallOutcome.ANSWERED).count() == 12
    assert set(Call.objects.values_list("agent__email", flat=True)) == {"agent-b@test.fr"}
    assert not CallEvent.objects.filter(processed_at__isnull=True).exists()
    assert processing.events_process_batch() == (0, 0)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks: PostgreSQL only")
@pytest.mark.django_db(transaction=True)
def test_two_pumps_at_once_process_each_event_once(account: Any) -> None:
    number_account(account)
    for i in range(40):
        for name, at, extra in (("ringing", 0, {}),
                                ("hangup", 9, {"cause": "caller_abandoned"})):
            data = event(name, call_id=f"p{i}", at=at, **extra)
            calls.event_receive(calls.event_parse(data), payload=data, process=False)
    errors: list[BaseException] = []

    def drain() -> None:
        try:
            pump.pump_drain()
        except BaseException as exc:  # reported by the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=drain) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    assert not CallEvent.objects.filter(processed_at__isnull=True).exists()
    assert not CallEvent.objects.exclude(error="").exists()
    assert Call.objects.count() == 40
    assert Call.objects.filter(outcome=CallOutcome.ABANDONED).count() == 40
    assert Callback.objects.count() == 40  # one call back per call, not one per pump
