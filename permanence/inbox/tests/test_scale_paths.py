"""Search and API paging written for 1,000,000 conversations (issue 9): keyset cursors,
capped counts, typo tolerance, the priority index. Run on SQLite and on PostgreSQL."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from permanence.inbox import views
from permanence.inbox.models import Conversation

POSTGRES = connection.vendor == "postgresql"
URL = "/api/v1/conversations"


def _make(account: Any, n: int, *, subject: str = "Demande", body: str = "Bonjour",
          start: int = 0, later: int = 0) -> list[Conversation]:
    now = timezone.now() + timedelta(hours=later)
    made = []
    for i in range(start, start + n):
        moment = now - timedelta(minutes=i % 4)  # ties on every sort key but the id
        made.append(Conversation.objects.create(
            account=account, reference=f"D-2026-{700000 + i:06d}", subject=f"{subject} {i}",
            channel="email", status="ouvert", priority=("basse", "haute")[i % 2],
            created_at=moment, updated_at=moment, last_message_at=moment,
            next_due_at=None if i % 3 == 0 else moment + timedelta(hours=i % 5),
            search_text=f"D-2026-{700000 + i:06d} {subject} {i}\n{body}"))
    return made


def _walk(api: Any, query: str) -> list[int]:
    seen: list[int] = []
    cursor = ""
    for _ in range(50):
        response = api.get(f"{URL}?limit=3{query}" + (f"&cursor={cursor}" if cursor else ""))
        assert response.status_code == 200, response.content
        seen += [item["id"] for item in response.json()["items"]]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return seen
    raise AssertionError("the cursor never ends")


@pytest.mark.django_db
@pytest.mark.parametrize("sort", ["recent", "due", "oldest", "priority"])
def test_cursor_pages_are_the_offset_order_without_duplicates_or_skips(
        api_client_for: Any, supervisor: Any, account: Any, sort: str) -> None:
    _make(account, 14)
    api = api_client_for(supervisor)
    everything = [item["id"] for item in
                  api.get(f"{URL}?limit=200&sort={sort}").json()["items"]]
    assert len(everything) == 14
    assert _walk(api, f"&sort={sort}") == everything


@pytest.mark.django_db
def test_due_cursor_reads_ranges_of_the_due_index(api_client_for: Any, supervisor: Any,
                                                  account: Any) -> None:
    """After a dated row, the "due" sort's next page is the range of dates from it on, then
    (page not full) the undated rows: never `next_due_at > d OR next_due_at IS NULL`, which
    no index range answers (every entry before the cursor would be walked)."""
    _make(account, 14)
    api = api_client_for(supervisor)
    everything = [item["id"] for item in
                  api.get(f"{URL}?limit=200&sort=due").json()["items"]]
    first = api.get(f"{URL}?limit=2&sort=due").json()
    with CaptureQueriesContext(connection) as ctx:
        body = api.get(f"{URL}?limit=2&sort=due&cursor={first['next_cursor']}").json()
    assert [item["id"] for item in body["items"]] == everything[2:4]
    [page_sql] = [q["sql"] for q in ctx.captured_queries
                  if "ORDER BY" in q["sql"] and "LIMIT 2" in q["sql"]]
    assert '"next_due_at" >= ' in page_sql, page_sql  # an index range, then a walk
    # Across the last dated row: the rest of the dates, then the undated rows.
    dated = sum(1 for c in Conversation.objects.all() if c.next_due_at is not None)
    assert _walk(api, "&sort=due") == everything and 0 < dated < len(everything)


@pytest.mark.django_db
def test_cursor_is_stable_when_conversations_arrive_between_pages(
        api_client_for: Any, supervisor: Any, account: Any) -> None:
    first = _make(account, 6)
    api = api_client_for(supervisor)
    page = api.get(f"{URL}?limit=3").json()
    _make(account, 4, start=100, later=1)  # newer: they sort before the cursor
    rest = []
    cursor = page["next_cursor"]
    while cursor:
        body = api.get(f"{URL}?limit=3&cursor={cursor}").json()
        rest += [item["id"] for item in body["items"]]
        cursor = body["next_cursor"]
    got = [item["id"] for item in page["items"]] + rest
    assert sorted(got) == sorted(c.pk for c in first)  # each old one once, none skipped
    assert len(got) == len(set(got))


@pytest.mark.django_db
@pytest.mark.parametrize("cursor", [
    "nope", "%%%", base64.urlsafe_b64encode(b'{"s":"due","k":[1,2,3]}').decode(),
    base64.urlsafe_b64encode(b'{"s":"recent","k":["x",1]}').decode(),
    base64.urlsafe_b64encode(b'{"s":"recent","k":["2026-01-01T00:00:00+00:00",'
                             b'9223372036854775808]}').decode(),
    base64.urlsafe_b64encode(b'[1]').decode(),
])
def test_invalid_cursor_is_json_422(api_client_for: Any, supervisor: Any, account: Any,
                                    cursor: str) -> None:
    _make(account, 2)
    response = api_client_for(supervisor).get(f"{URL}?cursor={cursor}")
    assert response.status_code == 422, response.content
    assert "cursor" in response.json()["errors"]


@pytest.mark.django_db
def test_cursor_with_an_offset_is_refused(api_client_for: Any, supervisor: Any,
                                          account: Any) -> None:
    _make(account, 4)
    api = api_client_for(supervisor)
    cursor = api.get(f"{URL}?limit=2").json()["next_cursor"]
    response = api.get(f"{URL}?limit=2&offset=2&cursor={cursor}")
    assert response.status_code == 422
    assert "offset" in response.json()["errors"]


@pytest.mark.django_db
def test_api_list_queries_do_not_grow_with_the_page(api_client_for: Any, supervisor: Any,
                                                    account: Any) -> None:
    _make(account, 30)
    api = api_client_for(supervisor)
    api.get(URL)  # the token's first use is recorded once
    counts = []
    for url in (f"{URL}?limit=2", f"{URL}?limit=25", f"{URL}?limit=25&offset=5",
                f"{URL}?limit=25&q=Demande"):
        with CaptureQueriesContext(connection) as ctx:
            assert api.get(url).status_code == 200
        counts.append(len(ctx.captured_queries))
    cursor = api.get(f"{URL}?limit=10").json()["next_cursor"]
    with CaptureQueriesContext(connection) as ctx:
        api.get(f"{URL}?limit=10&cursor={cursor}")
    assert len(ctx.captured_queries) == counts[1]
    assert counts[0] == counts[1] == counts[2]


@pytest.mark.django_db
def test_api_count_is_capped_and_says_so(monkeypatch: Any, api_client_for: Any,
                                         supervisor: Any, account: Any) -> None:
    from permanence.inbox import api as inbox_api

    _make(account, 5)
    api = api_client_for(supervisor)
    body = api.get(URL).json()
    assert (body["count"], body["count_capped"]) == (5, False)
    monkeypatch.setattr(inbox_api, "API_COUNT_CAP", 3)
    body = api.get(URL).json()
    assert (body["count"], body["count_capped"]) == (3, True)
    assert len(body["items"]) == 5


@pytest.mark.django_db
def test_common_word_shows_a_capped_count(monkeypatch: Any, account: Any,
                                          supervisor: Any) -> None:
    monkeypatch.setattr(views, "COUNT_CAP", 3)
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    _make(account, 5, subject="Rendez-vous")
    _make(account, 2, subject="Facture", start=50)
    client = Client()
    client.force_login(supervisor)
    response = client.get("/app/boite/?view=all&q=rendez-vous")
    page = response.context["page"]
    assert page.paginator.capped is True
    assert "plus de 1 000 dossiers" in response.content.decode()
    page = client.get("/app/boite/?view=all&q=facture").context["page"]
    assert (page.paginator.count, page.paginator.capped) == (2, False)


@pytest.mark.django_db
def test_common_and_rare_terms_give_the_same_rows(monkeypatch: Any, account: Any,
                                                  supervisor: Any) -> None:
    """On PostgreSQL a term with more than COLLECT_MAX matches is checked row by row, one
    with fewer is collected from the index: both ways give the same pages."""
    from permanence.inbox import search
    from permanence.inbox.models import Contact
    from permanence.inbox.selectors import inbox_list

    for i, conversation in enumerate(_make(account, 9, subject="Ordonnance")):
        conversation.contact = Contact.objects.create(
            account=account, email=f"jean.dupont{i}@exemple.fr", phone=f"+3361234567{i}")
        conversation.save()
    queries = ["ordonnance", "exemple.fr", "ordonnance exemple.fr", "06 12 34 56", "700003"]
    expected = {q: [c.pk for c in inbox_list(supervisor, view="all", q=q)] for q in queries}
    assert all(expected.values())
    monkeypatch.setattr(search, "COLLECT_MAX", 0)  # every term has "many" matches:
    for share in (1.0, 0.0):  # probed then read from the index, or checked row by row
        monkeypatch.setattr(search, "MANY_SHARE", share)
        for q in queries:
            assert [c.pk for c in inbox_list(supervisor, view="all", q=q)] == expected[q], q


@pytest.mark.django_db
@pytest.mark.skipif(not POSTGRES, reason="the planner's estimate is PostgreSQL's")
def test_common_word_is_checked_row_by_row_without_collecting_its_matches(
        monkeypatch: Any, account: Any, supervisor: Any) -> None:
    """A word the statistics say is common is never read from the GIN index (whose posting
    list, 160,000 entries at 1,000,000 conversations, costs more than the page): neither the
    page nor the capped count collects its matches; a rare word is read from the index."""
    from permanence.inbox import search
    from permanence.inbox.selectors import inbox_list

    _make(account, 6, subject="Ordonnance")
    _make(account, 2, subject="Facture", start=20)
    monkeypatch.setattr(search, "COLLECT_MAX", 0)  # any estimate (≥ 1 row) is "common"
    monkeypatch.setattr(search, "MANY_SHARE", 0.0)
    with CaptureQueriesContext(connection) as ctx:
        rows = list(inbox_list(supervisor, view="all", q="ordonnance"))
        count = inbox_list(supervisor, view="all", q="ordonnance")[:4].count()
    assert (len(rows), count) == (6, 4)
    sql = "\n".join(q["sql"] for q in ctx.captured_queries
                    if not q["sql"].startswith("EXPLAIN"))
    assert "ts_match_vq" in sql and "@@" not in sql.replace("ts_match_vq", ""), sql
    assert "ARRAY(SELECT id" not in sql  # nothing collected
    monkeypatch.setattr(search, "COLLECT_MAX", 3000)
    monkeypatch.setattr(search, "MANY_SHARE", 0.05)
    with CaptureQueriesContext(connection) as ctx:
        rows = list(inbox_list(supervisor, view="all", q="facture"))
    assert len(rows) == 2
    assert "search_vector @@" in "\n".join(q["sql"] for q in ctx.captured_queries)


@pytest.mark.django_db
def test_view_counters_stop_at_the_cap(monkeypatch: Any, account: Any,
                                       supervisor: Any) -> None:
    """The per-view counters count at most COUNT_CAP + 1 rows each (never the whole open
    inbox every 15 s) and say "1 000+" beyond."""
    from django.core.cache import cache

    from permanence.core import counting
    from permanence.inbox import selectors

    monkeypatch.setattr(counting, "COUNT_CAP", 3)
    _make(account, 6)
    cache.clear()
    with CaptureQueriesContext(connection) as ctx:
        counts = selectors.inbox_counts(supervisor)
    assert counts["open"] == counts["unassigned"] == 4
    assert [q["sql"].count("LIMIT 4") for q in ctx.captured_queries] == [5]
    client = Client()
    client.force_login(supervisor)
    cache.clear()
    body = client.get("/app/boite/").content.decode()
    assert 'Tous les ouverts <span class="count">3\u202f+</span>' not in body
    assert 'Tous les ouverts <span class="count">3+</span>' in body
    assert counting.count_label(4) == "3+"
    monkeypatch.setattr(counting, "COUNT_CAP", 1000)
    assert counting.count_label(1001) == "1\u202f000+"
    assert counting.count_label(1000) == "1000"


@pytest.mark.django_db
def test_api_search_count_stops_at_its_own_cap(monkeypatch: Any, api_client_for: Any,
                                               supervisor: Any, account: Any) -> None:
    from permanence.inbox import api as inbox_api

    _make(account, 5, subject="Ordonnance")
    monkeypatch.setattr(inbox_api, "API_SEARCH_COUNT_CAP", 2)
    api = api_client_for(supervisor)
    body = api.get(f"{URL}?q=ordonnance").json()
    assert (body["count"], body["count_capped"], len(body["items"])) == (2, True, 5)
    body = api.get(URL).json()
    assert (body["count"], body["count_capped"]) == (5, False)


@pytest.mark.django_db
@pytest.mark.skipif(not POSTGRES, reason="typo tolerance uses pg_trgm (PostgreSQL)")
@pytest.mark.parametrize("q", ["ordonance", "ordonnace", "ordonnnance", "renouvelement"])
def test_typos_find_the_word(account: Any, q: str) -> None:
    from permanence.inbox.search import search_conversations

    [wanted] = _make(account, 1, subject="Renouvellement d'ordonnance",
                     body="Pour le rendez-vous de lundi")
    _make(account, 1, subject="Facture", start=20)
    assert [c.pk for c in search_conversations(Conversation.objects.all(), q)] == [wanted.pk]


@pytest.mark.django_db
@pytest.mark.skipif(not POSTGRES, reason="trigram indexes exist on PostgreSQL only")
def test_contact_substrings_use_the_trigram_indexes(account: Any) -> None:
    from permanence.inbox.models import Contact
    from permanence.inbox.search import _contacts, parse_query

    Contact.objects.create(account=account, name="Jean", email="jean.dupont@exemple.fr",
                           phone="+33612345678")
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
    for q in ("pont@exemple", "0612345"):
        [term] = parse_query(q)
        plan = _contacts(term).explain()
        assert "trgm" in plan, plan
        assert _contacts(term).count() == 1


@pytest.mark.django_db
@pytest.mark.skipif(not POSTGRES, reason="the plan is PostgreSQL's")
def test_priority_sort_reads_its_index(account: Any, supervisor: Any) -> None:
    from permanence.inbox.selectors import inbox_list

    _make(account, 3)
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        cursor.execute("SET enable_sort = off")
    plan = inbox_list(supervisor, view="open", sort="priority").values("pk")[:50].explain()
    assert "conv_priority_visible" in plan, plan


def test_cursor_is_opaque_json() -> None:
    from permanence.inbox.api import ConversationFilters, _cursor

    text = _cursor(ConversationFilters(sort="recent"), [timezone.now(), 3])
    data = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    assert data["s"] == "recent"


@pytest.mark.parametrize(("estimates", "expected"), [
    # table, the part, each word alone (, a contact term's contacts)
    ([1_000_000, 200_000], ("many", None)),  # « facture »: checked row by row
    ([1_000_000, 1_200], ("few", None)),  # a name: read from the index
    ([1_000_000, 4_161], ("probe", None)),  # no statistics: PostgreSQL's floor, ~0.4 %
    ([200_000, 1_528, 16_000, 30_000], ("probe", None)),  # « fuite d'eau »: commons ANDed
    ([1_000_000, 2_000, 13_000, 160_000], ("probe", 0)),  # « martin facture »
])
def test_verdicts_read_the_planner_estimates(estimates: list[float],
                                             expected: tuple[str, int | None]) -> None:
    from permanence.inbox.search import _PG_WORDS, _verdicts

    alone = [[(_PG_WORDS, ("w",))] * (len(estimates) - 2)]
    verdicts, rarest = _verdicts([(_PG_WORDS, ("q",), None)], alone, iter(estimates))
    assert (verdicts[0], rarest[0]) == expected


def test_contact_terms_probe_unless_one_side_is_common() -> None:
    from permanence.inbox.search import _PG_NUMBER, _verdicts, parse_query

    [phone] = parse_query("07 39 65 61 08")
    part = [(_PG_NUMBER, ("0739656108", "-0739656108"), phone)]
    assert _verdicts(part, [[]], iter([1_000_000, 4_161, 200]))[0] == ["probe"]
    [domain] = parse_query("exemple.fr")
    part = [(_PG_NUMBER, ("exemple.fr", "exemple & fr:*"), domain)]
    assert _verdicts(part, [[]], iter([1_000_000, 10, 999_900]))[0] == ["many"]
