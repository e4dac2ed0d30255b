"""What keeps the desk's lists fast at 5,000,000 calls (bench/desk.py measures them): the
calls in progress read from their partial index, the call log's search from its trigram
index (PostgreSQL; on SQLite the same answers), and the pagers of the call log and of the
call backs counting up to 1,000 rows only."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.urls import reverse

from permanence.core import clock, counting
from permanence.desk import selectors
from permanence.desk.models import Call, Callback, CallState

POSTGRES = connection.vendor == "postgresql"


def _call(account: Any, n: int, **fields: Any) -> Call:
    at = clock.now() - timedelta(minutes=n)
    return Call.objects.create(**{"call_id": f"scale-{n}", "account": account,
                                  "state": CallState.ENDED, "offered_at": at, "created_at": at,
                                  **fields})


def _plan(qs: Any) -> str:
    """PostgreSQL's plan with table scans ruled out: which index answers, if any does."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    return str(qs.explain())


@pytest.mark.django_db
def test_the_search_finds_names_messages_and_numbers(account: Any, other_account: Any) -> None:
    dupont = _call(account, 1, caller_name="Mme Dupont", from_number="+33612345678")
    pain = _call(account, 2, message="Douleur thoracique, rappeler immédiatement")
    _call(account, 3, caller_name="M. Martin", message="Facture", from_number="+33700000000")
    _call(other_account, 4, caller_name="Mme Dupont")  # another account's
    for q, wanted in (("dupont", [dupont]), ("DOULEUR", [pain]), ("06 12 34", [dupont]),
                      ("612345678", [dupont]), ("nobody", [])):
        found = selectors.client_calls(account, selectors.CallFilters(q=q))
        assert list(found) == wanted, q
    if POSTGRES:
        # The index of migration desk/0008 answers each test of the search (a change of the
        # selector's expressions would silently fall back to reading every call).
        for q in ("dupont", "0612345678"):
            plan = _plan(Call.objects.filter(selectors.call_search_condition(q)).order_by())
            assert "desk_call_search_trgm" in plan, plan


@pytest.mark.django_db
def test_calls_in_progress_come_from_their_partial_index(account: Any, supervisor: Any) -> None:
    ringing = _call(account, 1, state=CallState.RINGING)
    wrapup = _call(account, 2, state=CallState.WRAPUP)
    for n in range(3, 8):
        _call(account, n)
    calls = selectors.desk_calls(supervisor)
    assert calls["active"] == [ringing, wrapup]
    assert len(calls["recent"]) == 5
    if POSTGRES:
        active = (selectors.calls_visible_to(supervisor)
                  .filter(state__in=selectors.ACTIVE_STATES).order_by("-offered_at", "-id"))
        assert "call_active" in _plan(active[:30])


@pytest.mark.django_db
def test_the_call_log_counts_up_to_the_cap(client: Any, client_user: Any, account: Any,
                                           monkeypatch: Any) -> None:
    """Past the cap the pager stops numbering the pages and points to the filters; the pages
    up to the cap stay reachable. A search counts its first SEARCH_PAGES pages only."""
    monkeypatch.setattr(counting, "COUNT_CAP", 3)
    monkeypatch.setattr("permanence.portal.views_calls.REQUESTS_PER_PAGE", 2)
    monkeypatch.setattr("permanence.portal.views_calls.SEARCH_PAGES", 1)
    calls = [_call(account, n, message="Douleur au genou") for n in range(6)]
    client.force_login(client_user)
    first = client.get(reverse("portal:calls"))
    assert first.status_code == 200
    page = first.context["page"]
    assert page.paginator.count == 4 and page.paginator.capped
    assert [r["call"] for r in first.context["rows"]] == calls[:2]
    assert "plus de 3 appels : précisez la recherche ou choisissez une période" in (
        first.content.decode())
    last = client.get(reverse("portal:calls"), {"page": 9})
    assert [r["call"] for r in last.context["rows"]] == calls[2:4]
    searched = client.get(reverse("portal:calls"), {"q": "douleur"})
    assert searched.context["page"].paginator.count == 3
    assert "plus de 2 appels" in searched.content.decode()
    narrowed = client.get(reverse("portal:calls"), {"q": "nobody"})
    assert not narrowed.context["page"].paginator.capped
    assert "précisez la recherche" not in narrowed.content.decode()


@pytest.mark.django_db
def test_the_call_backs_pager_counts_up_to_the_cap(client: Any, agent: Any, account: Any,
                                                   monkeypatch: Any) -> None:
    monkeypatch.setattr(counting, "COUNT_CAP", 60)
    now = clock.now()
    Callback.objects.bulk_create(
        Callback(account=account, number="+33612345678", reason="missed", status="fait",
                 due_at=now - timedelta(minutes=n), created_at=now) for n in range(70))
    client.force_login(agent)
    response = client.get(reverse("desk:callbacks"), {"status": "fait"})
    page = response.context["page"]
    assert page.paginator.count == 61 and page.paginator.capped
    assert len(page.object_list) == 50
    assert "plus de 60 rappels : affinez les filtres" in response.content.decode()
    few = client.get(reverse("desk:callbacks"), {"status": "fait", "page": 2})
    assert not few.context["page"].has_next()
