"""Supervisors: the live board (queue per channel, deadlines falling, agents' states and
load, today's figures against the day's objectives) and objectives and challenges."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from permanence.audit.models import AuditEvent
from permanence.core import clock
from permanence.desk.models import Call
from permanence.inbox.models import Conversation
from permanence.reports import objectives
from permanence.reports.models import Challenge, Objective


def _login(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _calls_today(account: Any, answered: int, missed: int) -> None:
    now = clock.now()
    for n in range(answered + missed):
        Call.objects.create(call_id=f"t{n}", account=account, offered_at=now, created_at=now,
                            from_number="+33612345678",
                            answered_at=now + timedelta(seconds=5) if n < answered else None,
                            wait_seconds=5 if n < answered else None,
                            outcome="answered" if n < answered else "abandoned")


def _open(account: Any, n: int, channel: str, due_in: timedelta | None,
          assignee: Any = None) -> Conversation:
    now = clock.now()
    return Conversation.objects.create(
        account=account, reference=f"L-{channel}-{n}", subject="Demande", channel=channel,
        status="ouvert", created_at=now, updated_at=now, last_message_at=now,
        next_due_at=now + due_in if due_in is not None else None, assignee=assignee)


def test_an_objective_is_measured_against_its_period(supervisor: Any, account: Any) -> None:
    _calls_today(account, answered=3, missed=1)
    objectives.objective_create(actor=supervisor, indicator="answer_rate", target=80,
                                period="jour", agent=None)
    objectives.objective_create(actor=supervisor, indicator="abandon_rate", target=30,
                                period="mois", agent=None)
    by_key = {p.item.indicator: p for p in objectives.objectives_progress()}
    assert by_key["answer_rate"].value == "75,0 %" and by_key["answer_rate"].met is False
    assert by_key["answer_rate"].fill == round(100 * 75 / 80)
    assert by_key["abandon_rate"].met is True  # 25 % ≤ 30 %: at most, for abandons


def test_supervisors_set_objectives_and_challenges_with_field_errors(
        supervisor: Any, agent: Any) -> None:
    client = _login(supervisor)
    bad = client.post("/app/rapports/objectifs/", {
        "objectif-indicator": "answer_rate", "objectif-target": "150", "objectif-period": "jour"})
    assert bad.status_code == 422 and "entre 0 et 100" in bad.content.decode()
    good = client.post("/app/rapports/objectifs/", {
        "objectif-indicator": "answer_rate", "objectif-target": "90", "objectif-period": "jour",
        "objectif-agent": agent.pk})
    assert good.status_code == 302
    objective = Objective.objects.get()
    assert objective.agent == agent and objective.target == 90
    late = client.post("/app/rapports/objectifs/", {
        "challenge-title": "Zéro abandon", "challenge-indicator": "abandon_rate",
        "challenge-target": "5", "challenge-starts_on": "2026-12-10",
        "challenge-ends_on": "2026-12-01"})
    assert late.status_code == 422 and not Challenge.objects.exists()
    today = clock.now().date()
    assert client.post("/app/rapports/objectifs/", {
        "challenge-title": "Zéro abandon", "challenge-indicator": "abandon_rate",
        "challenge-target": "5", "challenge-starts_on": today.isoformat(),
        "challenge-ends_on": (today + timedelta(days=5)).isoformat(),
        "challenge-reward": "Un déjeuner d'équipe"}).status_code == 302
    challenge = Challenge.objects.get()
    # Every secretary sees the running challenge on the indicators page.
    assert "Zéro abandon" in _login(agent).get("/app/rapports/").content.decode()
    client.post(f"/app/rapports/challenges/{challenge.pk}/supprimer/")
    client.post(f"/app/rapports/objectifs/{objective.pk}/supprimer/")
    assert not Challenge.objects.exists() and not Objective.objects.exists()
    assert AuditEvent.objects.filter(action="delete").count() == 2
    assert _login(agent).get("/app/rapports/objectifs/").status_code == 403


def test_the_live_board_shows_the_queue_and_what_falls_due(supervisor: Any, account: Any,
                                                           agent: Any) -> None:
    _open(account, 1, "email", timedelta(minutes=-10), assignee=agent)  # overdue
    _open(account, 2, "email", timedelta(minutes=30))  # falls within the hour
    _open(account, 3, "telephone", timedelta(hours=5), assignee=agent)
    objectives.objective_create(actor=supervisor, indicator="answer_rate", target=90,
                                period="jour", agent=None)
    client = _login(supervisor)
    response = client.get("/app/rapports/direct/")
    assert response.status_code == 200
    queue = response.context["queue"]
    assert queue["totals"] == {"open": 3, "unassigned": 1, "overdue": 1, "soon": 1}
    assert [c.reference for c in response.context["breaches"]] == ["L-email-1", "L-email-2"]
    load = {p["user"].pk: p["open"] for p in response.context["people"]}
    assert load[agent.pk] == 2
    assert len(response.context["objectives"]) == 1
    partial = client.get("/app/rapports/direct/", HTTP_HX_REQUEST="true")
    assert partial.content.decode().lstrip().startswith('<div id="live-board"')


def test_the_live_board_reads_a_constant_number_of_queries(supervisor: Any, account: Any,
                                                           agent: Any) -> None:
    client = _login(supervisor)
    client.get("/app/rapports/direct/")
    with CaptureQueriesContext(connection) as few:
        client.get("/app/rapports/direct/")
    for n in range(10):
        _open(account, n, "email", timedelta(minutes=n - 5), assignee=agent)
    _calls_today(account, answered=5, missed=2)
    with CaptureQueriesContext(connection) as many:
        client.get("/app/rapports/direct/")
    assert len(many.captured_queries) == len(few.captured_queries)


def test_the_team_page_gives_each_secretary_their_figures(supervisor: Any, agent: Any,
                                                          other_agent: Any,
                                                          account: Any) -> None:
    from permanence.desk.models import AgentStateChange

    now = clock.now()
    for n, (wait, talk) in enumerate(((5, 100), (10, 200))):
        Call.objects.create(call_id=f"team{n}", account=account, offered_at=now, created_at=now,
                            from_number="+33612345678", answered_at=now, wait_seconds=wait,
                            outcome="answered", agent=agent, ended_at=now, talk_seconds=talk,
                            hold_seconds=0, wrapup_seconds=20)
    Conversation.objects.create(account=account, reference="T-1", subject="Demande",
                                channel="email", created_at=now, updated_at=now,
                                last_message_at=now, assignee=agent, status="resolu",
                                resolved_at=now, first_response_on_time=True)
    AgentStateChange.objects.create(user=agent, to_status="en_pause",
                                    at=now - timedelta(minutes=5))
    today = now.date().isoformat()
    response = _login(supervisor).get("/app/rapports/equipe/", {"du": today, "au": today})
    rows = {r.user.pk: r for r in response.context["rows"]}
    mine = rows[agent.pk]
    # DMT: ((100 + 0 + 20) + (200 + 0 + 20)) / 2 = 170 s
    assert (mine.calls, mine.aht, mine.conversations, mine.resolved) == (2, "2 min 50 s", 1, 1)
    assert mine.sla == "100,0 %" and mine.breaks == 1
    assert rows[other_agent.pk].calls == 0
    own = _login(agent).get("/app/rapports/equipe/", {"du": today, "au": today})
    assert [r.user.pk for r in own.context["rows"]] == [agent.pk]  # colleagues' lines hidden


def test_the_staffing_forecast_follows_the_arrival_pattern(supervisor: Any, account: Any,
                                                           agent: Any) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    paris = ZoneInfo("Europe/Paris")
    # Two Mondays of history: 200 calls each between 09:00 and 09:30, 180 s handled each.
    n = 0
    for monday in (datetime(2026, 11, 23, 9, 0, tzinfo=paris),
                   datetime(2026, 11, 30, 9, 0, tzinfo=paris)):
        Call.objects.bulk_create([Call(
            call_id=f"s{n + i}", account=account, offered_at=monday + timedelta(seconds=8 * i),
            created_at=monday, from_number="+33612345678", answered_at=monday,
            wait_seconds=5, outcome="answered", agent=agent, ended_at=monday,
            talk_seconds=160, hold_seconds=0, wrapup_seconds=20) for i in range(200)])
        n += 200
    with clock.frozen(datetime(2026, 12, 3, 12, 0, tzinfo=paris)):
        response = _login(supervisor).get("/app/rapports/effectifs/", {
            "jour": 1, "semaines": 2, "delai": 20, "niveau": 80, "indisponibilite": 30,
            "occupation": 100})
    assert response.status_code == 200
    forecast = response.context["forecast"]
    assert forecast.aht_seconds == 180 and forecast.total_calls == 200
    [slot] = forecast.slots
    # 200 calls in 30 min at 180 s: 20 erlangs; Erlang C gives the fewest agents at 80 % in 20 s.
    from permanence.reports import erlang

    need = erlang.staffing(calls=200, interval_minutes=30, aht_seconds=180, shrinkage=0.3)
    assert slot.label == "09:00–09:30" and slot.agents == need.figures.agents
    assert slot.scheduled == need.agents_scheduled
    bad = _login(supervisor).get("/app/rapports/effectifs/", {"niveau": 150})
    assert bad.status_code == 422
