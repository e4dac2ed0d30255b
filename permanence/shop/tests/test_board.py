"""The order board: tabs, counters, filters, overdue highlighting, visibility, query counts."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse

from permanence.core import clock
from permanence.shop.models import Order, OrderStatus, PaymentMethod
from permanence.shop.selectors import board_counts

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=PARIS)  # a Tuesday morning
_seq = itertools.count(1)

pytestmark = pytest.mark.django_db


def bulk_orders(account: Any, n: int, status: str = OrderStatus.PAID, **fields: Any) -> list[Any]:
    """`n` orders straight into the table (the board only reads them)."""
    rows = []
    for _ in range(n):
        i = next(_seq)
        values: dict[str, Any] = {
            "reference": f"CM-2026-{i:06d}", "account": account, "status": status,
            "billing_name": f"Client {i}", "billing_email": f"client{i}@exemple.fr",
            "billing_address": "1 rue de la Paix", "payment_method": PaymentMethod.CARD,
            "total_ht_cents": 10000, "total_vat_cents": 2000, "total_ttc_cents": 12000,
            "created_at": NOW - timedelta(hours=i % 50 + 1)}
        if status == OrderStatus.PAID:
            values.update(paid_at=values["created_at"],
                          validation_due_at=NOW + timedelta(hours=i % 20 + 1))
        if status == OrderStatus.VALIDATED:
            values.update(validated_at=values["created_at"],
                          activation_due_at=NOW + timedelta(hours=i % 20 + 1))
        values.update(fields)
        rows.append(Order(**values))
    return Order.objects.bulk_create(rows)


def login(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def board(client: Client, **params: Any) -> Any:
    with clock.frozen(NOW):
        return client.get(reverse("orders:board"), params)


def refs(response: Any) -> list[str]:
    return re.findall(r"<strong>(CM-\d{4}-\d{6})</strong>", response.content.decode())


def test_shop_section_redirects_to_the_board(supervisor: Any) -> None:
    response = login(supervisor).get(reverse("shop"))
    assert response.status_code == 302
    assert response["Location"] == reverse("orders:board")


def test_tabs_list_the_right_orders_and_counters_match(supervisor: Any, account: Any) -> None:
    paid = bulk_orders(account, 3, OrderStatus.PAID)
    validated = bulk_orders(account, 2, OrderStatus.VALIDATED)
    failed = bulk_orders(account, 1, OrderStatus.FAILED)
    activated = bulk_orders(account, 4, OrderStatus.ACTIVATED, checked_at=NOW)
    late = bulk_orders(account, 1, OrderStatus.PAID, validation_due_at=NOW - timedelta(hours=2))
    client = login(supervisor)
    assert set(refs(board(client))) == {o.reference for o in paid + late}
    assert set(refs(board(client, tab="a_activer"))) == {o.reference for o in validated}
    assert set(refs(board(client, tab="paiement_echec"))) == {o.reference for o in failed}
    assert set(refs(board(client, tab="activees"))) == {o.reference for o in activated}
    assert set(refs(board(client, tab="en_retard"))) == {late[0].reference}
    assert len(refs(board(client, tab="toutes"))) == 11
    # "Nouvelles à vérifier": not checked yet, created in the last 30 days, not closed.
    assert len(refs(board(client, tab="a_verifier"))) == 7
    with clock.frozen(NOW):
        counts = board_counts(supervisor)
    assert counts == {"a_valider": 4, "a_activer": 2, "en_retard": 1, "a_verifier": 7,
                      "paiement_attente": 0, "paiement_en_cours": 0, "paiement_echec": 1,
                      "activees": 4, "toutes": 11}


def test_a_valider_is_sorted_by_deadline_and_overdue_rows_are_highlighted(
        supervisor: Any, account: Any) -> None:
    later = bulk_orders(account, 1, validation_due_at=NOW + timedelta(hours=30))[0]
    late = bulk_orders(account, 1, validation_due_at=NOW - timedelta(minutes=90))[0]
    soon = bulk_orders(account, 1, validation_due_at=NOW + timedelta(hours=1))[0]
    response = board(login(supervisor))
    assert refs(response) == [late.reference, soon.reference, later.reference]
    html = response.content.decode()
    late_row = html[html.index(f'data-order="{late.pk}"') - 30:html.index(late.reference)]
    assert 'class="overdue"' in late_row
    soon_row = html[html.index(f'data-order="{soon.pk}"') - 30:html.index(soon.reference)]
    assert 'class="overdue"' not in soon_row
    assert "en retard de 1 h 30" in html  # the inbox's countdown, reused
    assert f'data-due="{soon.validation_due_at.astimezone(UTC).isoformat()}"' in html


def test_filters_status_account_method_dates_and_search(supervisor: Any, account: Any,
                                                       other_account: Any) -> None:
    mine = bulk_orders(account, 2, OrderStatus.ACTIVATED, billing_name="Dr Alice Martin",
                       billing_email="alice@cabinet.fr")
    theirs = bulk_orders(other_account, 2, OrderStatus.ACTIVATED,
                         payment_method=PaymentMethod.TRANSFER)
    old = bulk_orders(other_account, 1, OrderStatus.CANCELLED,
                      created_at=NOW - timedelta(days=40))[0]
    client = login(supervisor)
    assert set(refs(board(client, tab="toutes", account=account.pk))) == {
        o.reference for o in mine}
    assert set(refs(board(client, tab="toutes", method="virement"))) == {
        o.reference for o in theirs}
    assert refs(board(client, tab="toutes", status="annulee")) == [old.reference]
    recent = board(client, tab="toutes", date_from=(NOW - timedelta(days=3)).date().isoformat(),
                   date_to=NOW.date().isoformat())
    assert old.reference not in refs(recent) and len(refs(recent)) == 4
    assert refs(board(client, tab="toutes", date_to=(NOW - timedelta(days=30)).date()
                      .isoformat())) == [old.reference]
    assert set(refs(board(client, tab="toutes", q="alice"))) == {o.reference for o in mine}
    assert set(refs(board(client, tab="toutes", q="Durand"))) == {
        o.reference for o in [*theirs, old]}
    assert refs(board(client, tab="toutes", q=mine[0].reference)) == [mine[0].reference]


def test_invalid_filters_are_ignored_not_a_500(supervisor: Any, account: Any) -> None:
    bulk_orders(account, 2)
    response = board(login(supervisor), tab="nope", account="x", date_from="hier",
                     status="inconnu", page="zz")
    assert response.status_code == 200
    assert len(refs(response)) == 2
    assert "Certains filtres sont invalides" in response.content.decode()


def test_empty_states(supervisor: Any) -> None:
    client = login(supervisor)
    assert "Aucune commande à valider." in board(client).content.decode()
    assert "Aucune commande en retard." in board(client, tab="en_retard").content.decode()


def test_agent_sees_only_the_orders_of_assigned_accounts(agent: Any, account: Any,
                                                         other_account: Any) -> None:
    mine = bulk_orders(account, 2)
    bulk_orders(other_account, 3)
    client = login(agent)
    assert set(refs(board(client))) == {o.reference for o in mine}
    with clock.frozen(NOW):
        assert board_counts(agent)["a_valider"] == 2
    # The other account is not even offered in the account filter.
    assert "Durand Avocats" not in board(client).content.decode()
    assert refs(board(client, account=other_account.pk)) == []


def test_clients_and_anonymous_cannot_open_the_board(client_user: Any) -> None:
    assert login(client_user).get(reverse("orders:board")).status_code == 403
    assert Client().get(reverse("orders:board")).status_code == 302


def test_pagination_50_per_page(supervisor: Any, account: Any) -> None:
    bulk_orders(account, 70, OrderStatus.ACTIVATED)
    client = login(supervisor)
    first = board(client, tab="activees")
    assert len(refs(first)) == 50
    assert "Page 1 / 2" in first.content.decode()
    second = board(client, tab="activees", page=2)
    assert len(refs(second)) == 20
    assert not set(refs(first)) & set(refs(second))


def test_counters_and_page_count_are_capped(supervisor: Any, account: Any,
                                            monkeypatch: Any) -> None:
    from permanence.core import counting

    monkeypatch.setattr(counting, "COUNT_CAP", 60)
    bulk_orders(account, 70, OrderStatus.ACTIVATED)
    html = board(login(supervisor), tab="activees").content.decode()
    assert "60+" in html
    assert "plus de 1 000 commandes" in html


@pytest.mark.parametrize("tab", ["a_valider", "en_retard", "toutes", "a_verifier"])
def test_query_count_is_constant(supervisor: Any, agent: Any, account: Any,
                                 django_assert_max_num_queries: Any, tab: str) -> None:
    from django.core.cache import cache

    bulk_orders(account, 5)
    bulk_orders(account, 2, validation_due_at=NOW - timedelta(hours=1))
    for user in (supervisor, agent):
        client = login(user)
        cache.clear()
        with django_assert_max_num_queries(10) as few:
            assert board(client, tab=tab).status_code == 200
        bulk_orders(account, 45)
        bulk_orders(account, 5, OrderStatus.VALIDATED,
                    activation_due_at=NOW - timedelta(hours=1))
        cache.clear()
        with django_assert_max_num_queries(len(few.captured_queries)):
            assert board(client, tab=tab).status_code == 200


def test_counters_are_one_query_and_cached(supervisor: Any, account: Any,
                                           django_assert_num_queries: Any) -> None:
    bulk_orders(account, 3)
    with clock.frozen(NOW):
        with django_assert_num_queries(1):
            board_counts(supervisor)
        with django_assert_num_queries(0):
            board_counts(supervisor)


def test_htmx_filter_requests_get_only_the_results_fragment(supervisor: Any,
                                                            account: Any) -> None:
    order = bulk_orders(account, 1)[0]
    with clock.frozen(NOW):
        response = login(supervisor).get(reverse("orders:board"), {"q": "Client"},
                                         HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert order.reference in html
    assert "<html" not in html and 'class="tabs"' not in html
