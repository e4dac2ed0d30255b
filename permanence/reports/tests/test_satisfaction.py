"""The service-quality report: survey answers feed CSAT / NPS figures, per visible account."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from permanence.core import clock
from permanence.inbox import services
from permanence.inbox.models_complaints import SurveyResponse
from permanence.reports import selectors


def _conversation(account: Any, subject: str = "Question") -> Any:
    return services.conversation_open(services.Incoming(
        account=account, channel="email", subject=subject, body_text="Bonjour",
        contact_email=f"patient@{account.slug}.fr", acknowledge=False))


def _survey(account: Any, csat: int | None, nps: int | None = None, comment: str = "",
            days_ago: int = 1) -> SurveyResponse:
    at = clock.now() - timedelta(days=days_ago)
    return SurveyResponse.objects.create(
        conversation=_conversation(account), sent_at=at, csat=csat, nps=nps, comment=comment,
        ask_nps=nps is not None, answered_at=at if csat is not None else None)


@pytest.fixture
def answers(account: Any, other_account: Any) -> None:
    for csat, nps in ((5, 10), (4, 9), (2, 3), (5, 7)):
        _survey(account, csat, nps, comment="Très bon accueil" if csat == 5 else "")
    _survey(account, None)  # sent, not answered
    _survey(account, 1, 0, days_ago=200)  # outside the 90-day period
    _survey(other_account, 1, 0)  # another account


def test_figures_follow_the_answers(answers: Any, supervisor: Any, account: Any) -> None:
    report = selectors.satisfaction(supervisor, days=90, account_id=account.pk)
    s = report["summary"]
    assert (s.sent, s.answered, s.response_rate) == (5, 4, 80)
    assert s.csat_average == 4.0  # (5 + 4 + 2 + 5) / 4
    assert s.satisfied_percent == 75
    assert s.nps == 25  # 2 promoters, 1 detractor, 1 passive over 4 answers
    assert [d["count"] for d in report["distribution"]] == [0, 1, 0, 1, 2]
    assert [r["name"] for r in report["per_account"]] == [account.name]


def test_a_longer_period_includes_older_answers(answers: Any, supervisor: Any,
                                                account: Any) -> None:
    s = selectors.satisfaction(supervisor, days=365, account_id=account.pk)["summary"]
    assert s.answered == 5 and s.csat_average == 3.4


def test_an_agent_sees_only_assigned_accounts(answers: Any, agent: Any,
                                              other_account: Any) -> None:
    report = selectors.satisfaction(agent, days=90)
    assert report["summary"].sent == 5
    assert other_account.name not in [r["name"] for r in report["per_account"]]


def test_page_renders_figures_and_comments(answers: Any, supervisor: Any,
                                           django_assert_max_num_queries: Any) -> None:
    client = Client()
    client.force_login(supervisor)
    with django_assert_max_num_queries(16):
        response = client.get("/app/rapports/satisfaction/?periode=90")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Très bon accueil" in html
    assert "3,40 / 5" in html  # both accounts, last 90 days: (5 + 4 + 2 + 5 + 1) / 5


def test_query_count_does_not_grow_with_accounts(answers: Any, supervisor: Any) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from permanence.accounts.models import ClientAccount

    client = Client()
    client.force_login(supervisor)
    client.get("/app/rapports/satisfaction/")
    with CaptureQueriesContext(connection) as before:
        client.get("/app/rapports/satisfaction/")
    for i in range(5):
        _survey(ClientAccount.objects.create(name=f"Compte {i}", slug=f"compte-{i}"), 4,
                comment="Bien")
    with CaptureQueriesContext(connection) as after:
        client.get("/app/rapports/satisfaction/")
    assert len(after.captured_queries) == len(before.captured_queries)


def test_bad_filters_fall_back_instead_of_failing(answers: Any, supervisor: Any,
                                                  other_account: Any, agent: Any) -> None:
    client = Client()
    client.force_login(agent)
    response = client.get(f"/app/rapports/satisfaction/?periode=abc&compte={other_account.pk}")
    assert response.status_code == 200
    assert response.context["days"] == 90 and response.context["account_id"] == 0


def test_empty_state(supervisor: Any, db: Any) -> None:
    client = Client()
    client.force_login(supervisor)
    page = client.get("/app/rapports/satisfaction/").content.decode()
    assert "Aucune enquête de satisfaction" in page


def test_first_responses_on_time_count_breaches_before_the_answer(account: Any,
                                                                  supervisor: Any) -> None:
    from permanence.inbox.models import Conversation

    now = clock.now()
    on_time, late, breached_later, waiting = (_conversation(account) for _ in range(4))
    Conversation.objects.filter(pk=on_time.pk).update(first_response_at=now)
    Conversation.objects.filter(pk=late.pk).update(
        first_response_at=now, sla_breached_at=now - timedelta(hours=1))
    Conversation.objects.filter(pk=breached_later.pk).update(
        first_response_at=now - timedelta(hours=2), sla_breached_at=now)
    delays = selectors.response_delays(supervisor, days=90)
    assert (delays["opened"], delays["answered"], delays["on_time"]) == (4, 3, 2)
    assert delays["on_time_percent"] == 67 and delays["breached"] == 2
    assert waiting.first_response_at is None
