"""Agent states: set by call events and by the agent, the inbox's presence in step, the
break reminder after 2 hours of calls, the supervisors' board."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse

from permanence.core import clock
from permanence.desk import agents
from permanence.desk.models import AgentState, AgentStateChange, AgentStatus, Call
from permanence.inbox.models import AgentPresence, Notification

from .calls_helpers import event, number_account, post

pytestmark = pytest.mark.django_db


def status_of(user: Any) -> str:
    return AgentState.objects.get(user=user).status


def test_call_events_move_the_agent(client: Any, account: Any, agent: Any) -> None:
    number_account(account)
    agents.agent_state_set(user=agent, status=AgentStatus.AVAILABLE)
    post(client, event("ringing", agent="agent@test.fr"))
    assert status_of(agent) == AgentStatus.ON_CALL
    call = Call.objects.get()
    assert AgentState.objects.get(user=agent).current_call == call
    post(client, event("answered", at=5, agent="agent@test.fr"))
    assert status_of(agent) == AgentStatus.ON_CALL
    post(client, event("hangup", at=60, cause="completed"))
    assert status_of(agent) == AgentStatus.WRAPUP
    agents.agent_wrapup_done(agent, call)
    assert status_of(agent) == AgentStatus.AVAILABLE
    assert [c.to_status for c in AgentStateChange.objects.filter(user=agent)] == [
        "disponible", "en_appel", "post_appel", "disponible"]


def test_a_call_that_only_rang_gives_the_agent_back(client: Any, account: Any,
                                                    agent: Any) -> None:
    number_account(account)
    post(client, event("ringing", agent="agent@test.fr"))
    post(client, event("hangup", at=30, cause="caller_abandoned"))
    assert status_of(agent) == AgentStatus.AVAILABLE


def test_a_late_event_of_an_older_call_does_not_move_the_agent(client: Any, account: Any,
                                                               agent: Any) -> None:
    number_account(account)
    post(client, event("ringing", "c1", agent="agent@test.fr"))
    post(client, event("ringing", "c2", at=40, agent="agent@test.fr"))  # on c2 now
    post(client, event("hangup", "c1", at=30, cause="caller_abandoned"))
    state = AgentState.objects.get(user=agent)
    assert state.status == AgentStatus.ON_CALL
    assert state.current_call == Call.objects.get(call_id="c2")


def test_wrapup_done_does_nothing_after_the_agent_moved_on(agent: Any, account: Any) -> None:
    agents.agent_state_set(user=agent, status=AgentStatus.BREAK)
    agents.agent_wrapup_done(agent, Call(pk=999))
    assert status_of(agent) == AgentStatus.BREAK


def test_the_inbox_presence_follows(agent: Any) -> None:
    agents.agent_state_set(user=agent, status=AgentStatus.BREAK)
    assert AgentPresence.objects.get(user=agent).available is False
    agents.agent_state_set(user=agent, status=AgentStatus.AVAILABLE)
    assert AgentPresence.objects.get(user=agent).available is True
    agents.agent_state_set(user=agent, status=AgentStatus.ON_CALL)
    assert AgentPresence.objects.get(user=agent).available is True
    agents.agent_state_set(user=agent, status=AgentStatus.AWAY)
    assert AgentPresence.objects.get(user=agent).available is False


def test_the_agent_chooses_through_the_api(api_client_for: Any, agent: Any,
                                           billing: Any) -> None:
    client = api_client_for(agent)
    response = client.post("/api/v1/agents/state", {"status": "en_pause"},
                           content_type="application/json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "en_pause" and response.json()["label"] == "En pause"
    assert status_of(agent) == AgentStatus.BREAK
    bad = client.post("/api/v1/agents/state", {"status": "en_appel"},
                      content_type="application/json")
    assert bad.status_code == 422  # on the phone comes from the calls
    refused = api_client_for(billing).post("/api/v1/agents/state", {"status": "disponible"},
                                           content_type="application/json")
    assert refused.status_code == 403
    assert not AgentState.objects.filter(user=billing).exists()


def test_the_switcher(client: Any, agent: Any) -> None:
    client.force_login(agent)
    page = client.get(reverse("desk:callbacks"))
    assert 'id="agent-state"' in page.content.decode()
    response = client.post(reverse("desk:agent_state"), {"status": "disponible",
                                                         "next": "/app/poste/rappels/"})
    assert response.status_code == 302 and response["Location"] == "/app/poste/rappels/"
    assert status_of(agent) == AgentStatus.AVAILABLE


def test_the_switcher_shows_the_state_read_with_the_menu_counts(client: Any,
                                                                 agent: Any) -> None:
    """Every staff page shows the switcher: its state comes in the menu's one statement
    (no query of its own), « absent » for an agent who never set one."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(agent)
    page = client.get(reverse("desk:callbacks")).content.decode()
    assert 'data-status="absent"' in page
    agents.agent_state_set(user=agent, status=AgentStatus.BREAK)
    with CaptureQueriesContext(connection) as ctx:
        page = client.get(reverse("desk:callbacks")).content.decode()
    assert 'data-status="en_pause"' in page
    assert '<option value="en_pause" selected>' in page
    assert not [q for q in ctx.captured_queries
                if q["sql"].startswith('SELECT "desk_agentstate"')]


def test_the_break_reminder_after_two_hours_of_calls(agent: Any) -> None:
    start = clock.now() - timedelta(hours=3)
    with clock.frozen(start):
        agents.agent_state_set(user=agent, status=AgentStatus.ON_CALL)
    with clock.frozen(start + timedelta(hours=1, minutes=59)):
        assert agents.break_reminders() == 0
    with clock.frozen(start + timedelta(hours=2, minutes=1)):
        assert agents.break_reminders() == 1
        assert agents.break_reminders() == 0  # once per stretch
    note = Notification.objects.get(user=agent, kind="desk_break")
    assert "pause de 10 minutes" in note.text
    agents.agent_state_set(user=agent, status=AgentStatus.BREAK)  # the break resets it
    state = AgentState.objects.get(user=agent)
    assert state.stretch_started_at is None and state.break_proposed_at is None


def test_the_board_is_for_supervisors(client: Any, supervisor: Any, agent: Any,
                                      account: Any) -> None:
    agents.agent_state_set(user=agent, status=AgentStatus.BREAK)
    client.force_login(agent)
    assert client.get(reverse("desk:agents")).status_code == 403
    client.force_login(supervisor)
    page = client.get(reverse("desk:agents"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "state-en_pause" in html and "agent" in html
    fragment = client.get(reverse("desk:agents"), headers={"HX-Request": "true"})
    assert "<h1>" not in fragment.content.decode()
    assert "state-en_pause" in fragment.content.decode()
