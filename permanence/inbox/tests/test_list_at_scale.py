"""The inbox list stays cheap on large inboxes: capped counts, short account filter."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from permanence.inbox import views
from permanence.inbox.services import Incoming, conversation_open


def _open(account: Any, n: int) -> None:
    for i in range(n):
        conversation_open(Incoming(account=account, channel="formulaire", subject=f"Q{i}",
                                   body_text="Bonjour", acknowledge=False))


@pytest.mark.django_db
def test_count_is_capped(monkeypatch: Any, account: Any, supervisor: Any) -> None:
    monkeypatch.setattr(views, "COUNT_CAP", 3)
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    _open(account, 5)
    client = Client()
    client.force_login(supervisor)
    page = client.get("/app/boite/?view=open").context["page"]
    assert page.paginator.count == 4  # cap + 1: "more than the cap"
    assert page.paginator.capped is True
    assert "plus de 1 000 dossiers" in client.get("/app/boite/?view=open").content.decode()


@pytest.mark.django_db
def test_exact_count_below_the_cap(account: Any, supervisor: Any) -> None:
    _open(account, 2)
    client = Client()
    client.force_login(supervisor)
    page = client.get("/app/boite/?view=open").context["page"]
    assert (page.paginator.count, page.paginator.capped) == (2, False)


@pytest.mark.django_db
def test_account_filter_lists_accounts_with_conversations(account: Any, other_account: Any,
                                                          supervisor: Any) -> None:
    from permanence.accounts.models import ClientAccount

    idle = ClientAccount.objects.create(name="Sans dossier", slug="sans-dossier")
    _open(account, 1)
    client = Client()
    client.force_login(supervisor)
    names = [a.name for a in client.get("/app/boite/").context["accounts"]]
    assert names == [account.name]
    # The selected account stays in the list even without conversations.
    names = [a.name for a in client.get(f"/app/boite/?account={idle.pk}").context["accounts"]]
    assert set(names) == {account.name, idle.name}


@pytest.mark.django_db
def test_agent_list_shows_exactly_the_assigned_accounts(account: Any, other_account: Any,
                                                        agent: Any, other_agent: Any,
                                                        django_assert_max_num_queries: Any
                                                        ) -> None:
    from permanence.accounts.models import ClientAccount
    from permanence.inbox.models import Conversation
    from permanence.inbox.selectors import conversations_visible_to

    third = ClientAccount.objects.create(name="Cabinet Roux", slug="cabinet-roux")
    third.assigned_agents.add(agent)
    for acc in (account, other_account, third):
        _open(acc, 2)
    mine = {account.pk, third.pk}
    assert {c.account_id for c in conversations_visible_to(agent)} == mine
    assert {c.account_id for c in conversations_visible_to(other_agent)} == {other_account.pk}
    client = Client()
    client.force_login(agent)
    with django_assert_max_num_queries(13):  # 11th: the menu's unread count
        page = client.get("/app/boite/?view=open").context["page"]
    assert {c.account_id for c in page} == mine and page.paginator.count == 4
    # Unassigned from an account: its conversations leave the agent's list at once.
    third.assigned_agents.remove(agent)
    assert {c.account_id for c in conversations_visible_to(agent)} == {account.pk}
    assert Conversation.objects.count() == 6


@pytest.mark.django_db
def test_list_order_indexes_exist(account: Any) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "inbox_conversation")
    assert constraints["conv_due_visible"]["columns"] == ["next_due_at", "last_message_at",
                                                          "id", "account_id", "status"]
    assert constraints["conv_recent_visible"]["columns"] == ["last_message_at", "id",
                                                             "account_id", "status"]
    assert "conv_recent_unmerged" not in constraints  # superseded by conv_recent_visible


@pytest.mark.django_db
def test_agent_open_list_can_walk_the_due_index_in_order(account: Any, agent: Any) -> None:
    """The agent's page is read from conv_due_visible in the list's order and stops after a
    page; the visible accounts are an array computed once (PostgreSQL: account_id =
    ANY(ARRAY(…)), not a semi-join); on SQLite the same rows through IN (…)."""
    from django.db import connection

    from permanence.inbox.selectors import inbox_list

    _open(account, 3)
    qs = inbox_list(agent, view="open")
    sql, params = qs[:50].query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            assert "= ANY(ARRAY(SELECT" in sql
            # Tiny tables: forbid the alternatives so the plan shows what the index allows.
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_sort = off")
            cursor.execute("SET LOCAL enable_bitmapscan = off")
            cursor.execute("EXPLAIN " + sql, params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            assert "Index Scan using conv_due_visible" in plan
            # Walked in the list's order (no sort), the accounts an array computed once.
            assert "Sort Key" not in plan and "InitPlan" in plan
            assert "account_id = ANY ($" in plan
        else:
            assert " IN (SELECT" in sql
    rows = list(qs)
    expected = sorted(rows, key=lambda c: (c.next_due_at is None, c.next_due_at,
                                           -c.last_message_at.timestamp()))
    assert len(rows) == 3 and rows == expected  # due first, then most recent


@pytest.mark.django_db
def test_pages_read_through_their_ids_are_the_plain_pages(account: Any, other_account: Any,
                                                          agent: Any, supervisor: Any) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from permanence.inbox.selectors import inbox_list

    _open(account, 4)
    _open(other_account, 3)
    for user in (supervisor, agent):
        for sort in ("due", "recent", "oldest", "priority"):
            for view in ("open", "all"):
                qs = inbox_list(user, view=view, sort=sort)
                expected = [c.pk for c in qs]
                paginator = views.CappedPaginator(qs, 2)
                got = []
                for number in paginator.page_range:
                    with CaptureQueriesContext(connection) as ctx:
                        page = paginator.page(number)
                        got += [c.pk for c in page]
                    assert len(ctx.captured_queries) == 1  # ids and rows: one query
                    assert "IN (SELECT" in ctx.captured_queries[0]["sql"]
                assert got == expected, (user, sort, view)
    # A search, the "team" view (a join, DISTINCT): the same pages; the full-text filter
    # runs once, inside the ids subquery.
    for q, view in (("Q1", "all"), ("", "team")):
        qs = inbox_list(supervisor, view=view, q=q)
        expected = [c.pk for c in qs]
        paginator = views.CappedPaginator(qs, 2)
        got = [c.pk for number in paginator.page_range for c in paginator.page(number)]
        assert got == expected
    paginator = views.CappedPaginator(inbox_list(supervisor, view="all", q="Q1"), 2)
    assert paginator.count == 2
    with CaptureQueriesContext(connection) as ctx:
        assert len(list(paginator.page(1))) == 2
    [query] = ctx.captured_queries
    if connection.vendor == "sqlite":  # PostgreSQL: ids probed once, before (search.py)
        assert query["sql"].count(" MATCH ") == 1


@pytest.mark.django_db
def test_search_count_uses_the_unfenced_match_and_counts_the_same(
        account: Any, supervisor: Any, django_assert_max_num_queries: Any) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from permanence.inbox.selectors import inbox_list

    for i in range(3):
        conversation_open(Incoming(account=account, channel="formulaire",
                                   subject=f"Facture {i}", body_text="Bonjour",
                                   acknowledge=False))
    _open(account, 2)
    for q in ("facture", "factu", "Bonjour", "introuvable"):
        plain = inbox_list(supervisor, view="all", q=q).count()
        capped = inbox_list(supervisor, view="all", q=q).order_by().values("pk")[:1001]
        assert capped.count() == plain  # the count the pager makes: same rows
    client = Client()
    client.force_login(supervisor)
    with CaptureQueriesContext(connection) as ctx, django_assert_max_num_queries(13):
        page = client.get("/app/boite/?view=all&q=factu").context["page"]
    assert page.paginator.count == 3
    assert sorted(c.subject for c in page) == ["Facture 0", "Facture 1", "Facture 2"]
    if connection.vendor == "postgresql":
        [count_sql] = [q["sql"] for q in ctx.captured_queries
                       if q["sql"].startswith("SELECT COUNT(*) FROM (SELECT")
                       and "inbox_readmarker" not in q["sql"]]  # not the unread count
        assert "to_tsvector" not in count_sql  # never parses text per row
