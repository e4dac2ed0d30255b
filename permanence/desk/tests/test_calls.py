"""Processing call events: states along the call machine, outcome, timings, agent, account of
the dialled number, unknown numbers flagged, out-of-order and duplicate deliveries, the sweep
of events left unprocessed."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import pytest

from permanence.core import clock
from permanence.desk import calls, processing
from permanence.desk.models import (
    Call,
    Callback,
    CallEvent,
    CallOutcome,
    CallState,
)
from permanence.inbox.models import Notification

from .calls_helpers import CALLER, NUMBER, event, number_account, post

pytestmark = pytest.mark.django_db


def send(client: Any, *events: dict[str, Any]) -> Call:
    for data in events:
        response = post(client, data)
        assert response.status_code == 200, response.content
    return Call.objects.get(call_id=events[0]["call_id"])


def answered_call(agent_email: str = "agent@test.fr") -> list[dict[str, Any]]:
    return [event("new", at=0), event("ringing", at=1),
            event("answered", at=10, agent=agent_email),
            event("hold", at=30), event("unhold", at=45),
            event("hangup", at=100, cause="completed", talk_s=75)]


def test_an_answered_call_goes_to_wrapup_with_its_timings(client: Any, account: Any,
                                                          agent: Any) -> None:
    number_account(account)
    call = send(client, *answered_call())
    assert call.state == CallState.WRAPUP
    assert call.outcome == CallOutcome.ANSWERED
    assert call.account == account and call.agent == agent
    assert call.from_number == CALLER and call.to_number == NUMBER
    assert call.wait_seconds == 10
    assert call.hold_seconds == 15
    assert call.talk_seconds == 90 - 15
    assert (call.ended_at - call.answered_at) == timedelta(seconds=90)
    assert [h.to_status for h in call.history.order_by("at", "pk")] == [
        "answered", "on_hold", "answered", "wrapup"]
    assert not Callback.objects.exists()


def test_the_provider_timings_win_when_given(client: Any, account: Any) -> None:
    number_account(account)
    call = send(client, event("ringing"), event("answered", at=5),
                event("hangup", at=70, cause="completed", wait_s=4, talk_s=63, hold_s=2))
    assert (call.wait_seconds, call.talk_seconds, call.hold_seconds) == (4, 63, 2)


@pytest.mark.parametrize(("cause", "outcome"), [
    ("caller_abandoned", CallOutcome.ABANDONED), ("no_answer", CallOutcome.MISSED),
    ("busy", CallOutcome.MISSED), ("failed", CallOutcome.MISSED),
    ("completed", CallOutcome.ABANDONED)])
def test_a_hangup_before_answer(client: Any, account: Any, cause: str, outcome: str) -> None:
    number_account(account)
    call = send(client, event("new"), event("ringing", at=1),
                event("hangup", at=25, cause=cause))
    assert call.state == CallState.ENDED
    assert call.outcome == outcome
    assert call.wait_seconds == 25 and call.talk_seconds is None
    callback = Callback.objects.get(call=call)
    assert callback.number == CALLER and callback.account == account
    assert callback.reason == outcome


def test_voicemail(client: Any, account: Any) -> None:
    number_account(account)
    call = send(client, event("ringing"), event("voicemail", at=20),
                event("hangup", at=50, cause="completed"),
                event("recording_ready", at=60,
                      recording_url="https://pbx.example.com/rec/1.mp3"))
    assert call.outcome == CallOutcome.VOICEMAIL
    assert call.recording_url == "https://pbx.example.com/rec/1.mp3"
    assert Callback.objects.get(call=call).reason == "voicemail"


def test_no_callback_for_an_anonymous_caller_or_an_outbound_call(client: Any,
                                                                 account: Any) -> None:
    number_account(account)
    send(client, event("ringing", "c1", **{"from": "anonymous"}),
         event("hangup", "c1", at=9, cause="caller_abandoned", **{"from": "anonymous"}))
    send(client, event("ringing", "c2", direction="outbound", **{"from": NUMBER,
                                                                  "to": CALLER}),
         event("hangup", "c2", at=9, cause="no_answer", direction="outbound"))
    assert not Callback.objects.exists()
    assert Call.objects.get(call_id="c2").account == account  # outbound: the number shown


def test_duplicates_have_one_effect(client: Any, account: Any) -> None:
    number_account(account)
    events = [event("ringing"), event("hangup", at=9, cause="caller_abandoned")]
    for data in events + events + events:
        post(client, data)
    call = Call.objects.get()
    assert call.history.count() == 1
    assert Callback.objects.count() == 1
    assert CallEvent.objects.count() == 2


# A spread of the 720 arrival orders of the six events (every 23rd, and the reverse).
ORDERS = [*list(itertools.permutations(range(6)))[::23], (5, 4, 3, 2, 1, 0)]


@pytest.mark.parametrize("order", ORDERS)
def test_any_arrival_order_ends_in_the_same_state(client: Any, account: Any, agent: Any,
                                                   order: tuple[int, ...]) -> None:
    """The six events of an answered call in many arrival orders: same final state, outcome
    and timings as in order (all 720 orders pass; a spread of them runs here)."""
    number_account(account)
    events = answered_call()
    call = send(client, *[events[i] for i in order])
    assert call.state == CallState.WRAPUP, order
    assert call.outcome == CallOutcome.ANSWERED
    assert call.answered_at is not None and call.wait_seconds == 10
    assert call.hold_seconds == 15 and call.talk_seconds == 75
    assert call.agent == agent


def test_a_bare_hangup_before_a_late_answer(client: Any, account: Any) -> None:
    """A hangup saying nothing of a conversation (no talk_s, no agent) before the « answered »
    that preceded it: the call has ended (the machine never goes back), but its outcome and
    timings follow the late event."""
    number_account(account)
    call = send(client, event("ringing"), event("hangup", at=70, cause="completed"))
    assert call.state == CallState.ENDED and call.outcome == CallOutcome.ABANDONED
    call = send(client, event("answered", at=10))
    assert call.state == CallState.ENDED and call.outcome == CallOutcome.ANSWERED
    assert call.talk_seconds == 60


def test_hangup_before_the_answered_event_arrives(client: Any, account: Any,
                                                  agent: Any) -> None:
    """The hangup of a talked call comes first: the call is answered (implied), no call back;
    the late « answered » changes nothing."""
    number_account(account)
    call = send(client, event("ringing"),
                event("hangup", at=70, cause="completed", talk_s=60, agent="agent@test.fr"))
    assert call.state == CallState.WRAPUP and call.outcome == CallOutcome.ANSWERED
    assert call.answered_at == call.ended_at - timedelta(seconds=60)
    call = send(client, event("answered", at=10, agent="agent@test.fr"))
    assert call.state == CallState.WRAPUP and call.outcome == CallOutcome.ANSWERED
    assert call.answered_at == call.offered_at + timedelta(seconds=10)
    assert not Callback.objects.exists()


def test_a_late_answer_cancels_the_callback_still_to_do(client: Any, account: Any) -> None:
    number_account(account)
    call = send(client, event("ringing"), event("hangup", at=70, cause="completed"))
    assert Callback.objects.get(call=call).status == "a_faire"
    call = send(client, event("answered", at=10))
    assert call.outcome == CallOutcome.ANSWERED
    assert Callback.objects.get(call=call).status == "annule"


def test_unknown_dialled_number_is_kept_and_flagged(client: Any, account: Any,
                                                    supervisor: Any, admin_user: Any,
                                                    agent: Any) -> None:
    call = send(client, event("ringing", to="+33188888888"),
                event("hangup", at=5, cause="caller_abandoned", to="+33188888888"))
    assert call.account is None and call.unknown_number is True
    assert call.outcome == CallOutcome.ABANDONED
    flagged = Notification.objects.filter(kind=processing.UNKNOWN_NUMBER_KIND)
    assert sorted(n.user.email for n in flagged) == ["admin@test.fr", "superviseur@test.fr"]
    assert "01 88 88 88 88" in flagged[0].text
    assert flagged[0].link == f"/app/poste/appels/{call.pk}/"
    assert not Callback.objects.exists()  # no account to call back for


def test_events_left_unprocessed_are_swept(account: Any) -> None:
    number_account(account)
    for data in (event("ringing"), event("hangup", at=9, cause="no_answer")):
        received = calls.event_receive(calls.event_parse(data), payload=data, process=False)
        assert received.created
    assert not Call.objects.exists()
    CallEvent.objects.update(received_at=clock.now() - timedelta(minutes=2))
    assert processing.events_process_pending() == 1
    call = Call.objects.get()
    assert call.outcome == CallOutcome.MISSED
    assert not CallEvent.objects.filter(processed_at__isnull=True).exists()
    assert processing.events_process_pending() == 0


def test_a_failed_processing_keeps_the_event_for_the_sweep(account: Any,
                                                           monkeypatch: Any) -> None:
    number_account(account)

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(processing, "_consequences", broken)
    data = event("ringing")
    received = calls.event_receive(calls.event_parse(data), payload=data)
    assert received.created and received.call is None
    stored = CallEvent.objects.get()
    assert stored.processed_at is None and "boom" in stored.error
    assert not Call.objects.exists()  # the processing's savepoint was rolled back
    monkeypatch.undo()
    CallEvent.objects.update(received_at=clock.now() - timedelta(minutes=2))
    assert processing.events_process_pending() == 1
    assert Call.objects.get().state == CallState.RINGING


# --- GET /api/v1/calls --------------------------------------------------------------------------

FIELDS = {"id", "call_id", "account", "direction", "from", "to", "outcome", "offered_at",
          "answered_at", "ended_at", "wait_seconds", "talk_seconds", "hold_seconds",
          "wrapup_seconds", "agent", "conversation", "callback"}


def test_calls_api_items_and_visibility(client: Any, api_client_for: Any, account: Any,
                                        other_account: Any, agent: Any, other_agent: Any,
                                        supervisor: Any, billing: Any,
                                        client_user: Any) -> None:
    number_account(account)
    number_account(other_account, "+33145000005")
    send(client, *answered_call())
    send(client, event("ringing", "c2", at=200),
         event("hangup", "c2", at=230, cause="caller_abandoned"))
    send(client, event("ringing", "c3", at=300, to="+33145000005"))
    send(client, event("ringing", "c4", at=400, to="+33199999999"))  # unknown number
    response = api_client_for(agent).get("/api/v1/calls")
    assert response.status_code == 200, response.content
    items = response.json()["items"]
    assert [i["call_id"] for i in items] == ["c2", "c1"]
    assert set(items[0]) == FIELDS
    abandoned, answered = items
    assert abandoned["outcome"] == "abandoned" and abandoned["callback"] == "a_faire"
    assert abandoned["from"] == CALLER and abandoned["to"] == NUMBER
    assert abandoned["account"] == account.pk and abandoned["direction"] == "inbound"
    assert answered["outcome"] == "answered" and answered["callback"] is None
    assert answered["agent"] == "agent@test.fr"
    assert (answered["wait_seconds"], answered["talk_seconds"],
            answered["hold_seconds"]) == (10, 75, 15)
    assert answered["wrapup_seconds"] is None and answered["conversation"] is None
    assert answered["offered_at"].startswith("2026-11-23T08:00:00")
    ringing = api_client_for(other_agent).get("/api/v1/calls").json()["items"]
    assert [i["call_id"] for i in ringing] == ["c3"] and ringing[0]["outcome"] is None
    assert [i["call_id"] for i in api_client_for(client_user).get(
        "/api/v1/calls").json()["items"]] == ["c2", "c1"]
    everything = api_client_for(supervisor).get("/api/v1/calls").json()["items"]
    assert [i["call_id"] for i in everything] == ["c4", "c3", "c2", "c1"]
    assert everything[0]["account"] is None
    # Billing sees every account, but unknown numbers are the supervisors' (as on the pages).
    assert [i["call_id"] for i in api_client_for(billing).get(
        "/api/v1/calls").json()["items"]] == ["c3", "c2", "c1"]


def test_calls_api_filters_and_cursor(client: Any, api_client_for: Any, account: Any,
                                      other_account: Any, supervisor: Any,
                                      agent: Any) -> None:
    number_account(account)
    number_account(other_account, "+33145000005")
    for i in range(5):
        send(client, event("ringing", f"a{i}", at=i * 60))
    send(client, event("ringing", "b0", at=30, to="+33145000005"))
    api = api_client_for(supervisor)
    only = api.get("/api/v1/calls", {"account": account.pk}).json()["items"]
    assert [i["call_id"] for i in only] == ["a4", "a3", "a2", "a1", "a0"]
    window = api.get("/api/v1/calls", {"from": "2026-11-23T09:01:00+01:00",
                                       "to": "2026-11-23T09:03:00+01:00"}).json()["items"]
    assert [i["call_id"] for i in window] == ["a2", "a1"]
    seen, cursor = [], ""
    while True:
        page = api.get("/api/v1/calls", {"limit": 2, "cursor": cursor}).json()
        seen += [i["call_id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == ["a4", "a3", "a2", "a1", "b0", "a0"]
    hidden = api_client_for(agent).get("/api/v1/calls", {"account": other_account.pk})
    assert hidden.status_code == 200 and hidden.json()["items"] == []


@pytest.mark.parametrize("params", [
    {"from": "hier"}, {"to": "2026-13-45"}, {"account": "x"}, {"limit": 0}, {"limit": 500},
    {"cursor": "pas-un-curseur"}, {"cursor": "W10"},
    {"from": "2026-11-24T00:00:00+01:00", "to": "2026-11-23T00:00:00+01:00"}])
def test_calls_api_bad_params_are_422(api_client_for: Any, supervisor: Any,
                                      params: dict[str, Any]) -> None:
    response = api_client_for(supervisor).get("/api/v1/calls", params)
    assert response.status_code == 422, (params, response.content)
    assert response.json()["code"] == "invalid"


def test_calls_api_needs_a_token(client: Any) -> None:
    assert client.get("/api/v1/calls").status_code == 401
