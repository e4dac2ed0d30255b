"""The indicators page: tiles with formulas and the previous period, the drill-down to the rows
behind a tile, CSV and XLSX exports, field errors for bad filters, constant queries."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from permanence.accounts.models import ClientAccount
from permanence.desk.models import Call
from permanence.inbox.models import Conversation

PARIS = ZoneInfo("Europe/Paris")
AT = datetime(2026, 11, 10, 10, 0, tzinfo=PARIS)
PERIOD = {"du": "2026-11-01", "au": "2026-11-30"}


def _seed(account: Any, calls: int = 3, conversations: int = 2, tag: str = "") -> None:
    for n in range(calls):
        Call.objects.create(call_id=f"p{tag}{account.pk}-{n}", account=account, offered_at=AT,
                            created_at=AT, from_number="+33612345678",
                            answered_at=AT + timedelta(seconds=10) if n else None,
                            wait_seconds=10 if n else None,
                            outcome="answered" if n else "abandoned",
                            ended_at=AT + timedelta(seconds=8) if not n else None)
    for n in range(conversations):
        Conversation.objects.create(account=account, reference=f"P{tag}{account.pk}-{n}",
                                    subject=f"Demande {n}", channel="email", created_at=AT,
                                    updated_at=AT, last_message_at=AT)
    # The month before, for the comparison.
    before = AT - timedelta(days=30)
    Call.objects.create(call_id=f"p{tag}{account.pk}-old", account=account, offered_at=before,
                        created_at=before, from_number="+33612345678", answered_at=before,
                        wait_seconds=0, outcome="answered")


@pytest.fixture
def browser(supervisor: Any) -> Client:
    client = Client()
    client.force_login(supervisor)
    return client


def test_tiles_show_values_previous_period_and_formulas(browser: Client, account: Any) -> None:
    _seed(account)
    page = browser.get("/app/rapports/", PERIOD).content.decode()
    assert 'id="kpi-calls_offered"' in page
    assert "66,7 %" in page  # answer rate: 2 of 3
    assert "Appels décrochés ÷ appels présentés." in page  # the formula beside the figure
    assert "avant : 100,0 %" in page  # October: 1 of 1 answered
    assert "Activité par jour" in page and "<polyline" in page
    assert "quoi=appels" in page and "filtre=abandons" in page


def test_drill_down_lists_exactly_the_rows_counted(browser: Client, account: Any,
                                                   other_account: Any) -> None:
    _seed(account)
    response = browser.get("/app/rapports/detail/", {**PERIOD, "quoi": "appels",
                                                     "filtre": "abandons"})
    assert response.status_code == 200
    assert response.context["page"].paginator.count == 1
    conversations = browser.get("/app/rapports/detail/", {**PERIOD, "quoi": "dossiers",
                                                          "compte": account.pk})
    assert [c.reference for c in conversations.context["page"]] == [
        f"P{account.pk}-1", f"P{account.pk}-0"]


def test_agents_see_only_their_accounts(agent: Any, account: Any, other_account: Any) -> None:
    _seed(account)
    _seed(other_account)
    client = Client()
    client.force_login(agent)
    response = client.get("/app/rapports/detail/", {**PERIOD, "quoi": "appels"})
    assert response.context["page"].paginator.count == 3
    refused = client.get("/app/rapports/", {**PERIOD, "compte": other_account.pk})
    assert refused.status_code == 422  # not one of the choices offered


def test_exports_carry_the_same_figures(browser: Client, account: Any) -> None:
    _seed(account)
    csv = b"".join(browser.get("/app/rapports/export.csv", PERIOD).streaming_content)
    text = csv.decode("utf-8-sig")
    assert "answer_rate;Taux de décroché;0.6667;1.0;ratio;" in text
    response = browser.get("/app/rapports/export.xlsx", {**PERIOD, "quoi": "appels"})
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0][0] == "Identifiant" and len(rows) == 4


def test_bad_filters_are_field_errors(browser: Client) -> None:
    response = browser.get("/app/rapports/", {"du": "2026-12-01", "au": "2026-11-01"})
    assert response.status_code == 422
    assert "précède" in response.content.decode()
    assert browser.get("/app/rapports/", {"du": "pas-une-date"}).status_code == 422
    assert browser.get("/app/rapports/detail/", {**PERIOD, "quoi": "x"}).status_code == 422
    assert browser.get("/app/rapports/export.csv", {"au": "2020-01-01", "du": "2026-01-01"}
                       ).status_code == 422


def test_queries_do_not_grow_with_accounts_or_rows(browser: Client, account: Any) -> None:
    _seed(account)
    browser.get("/app/rapports/", PERIOD)
    with CaptureQueriesContext(connection) as few:
        browser.get("/app/rapports/", PERIOD)
    for n in range(4):
        extra = ClientAccount.objects.create(name=f"Compte {n}", slug=f"compte-{n}",
                                             status="actif")
        _seed(extra, calls=5, conversations=4, tag="x")
    with CaptureQueriesContext(connection) as many:
        browser.get("/app/rapports/", PERIOD)
    assert len(many.captured_queries) == len(few.captured_queries)
