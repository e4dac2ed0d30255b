"""/api/v1/orders: shape, filters, visibility, transitions (403/404/409/422)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from permanence.core import clock
from permanence.shop.models import OrderStatus, PaymentMethod
from permanence.shop.orders import order_transition
from testkit.shop import make_order, mark_checked

PARIS = ZoneInfo("Europe/Paris")

pytestmark = pytest.mark.django_db


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)


@pytest.fixture
def paid(account: Any, client_user: Any) -> Any:
    with clock.frozen(paris(2026, 11, 20, 17, 0)):
        order = make_order(account, client_user)
        return order_transition(order=order, to=OrderStatus.PAID)


@pytest.fixture
def theirs(other_account: Any) -> Any:
    with clock.frozen(paris(2026, 11, 21, 9, 0)):
        return make_order(other_account, payment_method=PaymentMethod.TRANSFER)


def post_json(client: Any, url: str, body: Any) -> Any:
    import json

    return client.post(url, json.dumps(body), content_type="application/json")


def test_list_shape(api_client_for: Any, supervisor: Any, paid: Any, theirs: Any) -> None:
    response = api_client_for(supervisor).get("/api/v1/orders")
    assert response.status_code == 200
    data = response.json()
    assert data["count"] == 2 and data["limit"] == 50 and data["offset"] == 0
    item = next(i for i in data["items"] if i["id"] == paid.pk)
    assert item["reference"] == paid.reference and item["account"] == paid.account_id
    assert item["status"] == "payee" and item["customer_kind"] == "professionnel"
    assert item["payment_method"] == "carte"
    assert (item["total_ht_cents"], item["total_vat_cents"], item["total_ttc_cents"]) == (
        14900, 2980, 17880)
    assert item["paid_at"].startswith("2026-11-20T16:00:00")
    assert datetime.fromisoformat(item["validation_due_at"]) == paris(2026, 11, 25, 17, 0)
    assert item["validated_at"] is None and item["activation_due_at"] is None
    assert item["activated_at"] is None
    assert item["lines"] == [{"label": "Forfait Essentiel", "quantity": 1,
                              "unit_price_cents": 14900, "discount_percent": "0.00",
                              "vat_rate": "20.00", "recurring_cents": 14900,
                              "total_ht_cents": 14900}]


def test_list_filters_and_pagination(api_client_for: Any, supervisor: Any, paid: Any,
                                     theirs: Any) -> None:
    client = api_client_for(supervisor)

    def refs(query: str) -> list[str]:
        response = client.get(f"/api/v1/orders?{query}")
        assert response.status_code == 200, response.content
        return [i["reference"] for i in response.json()["items"]]

    assert refs("status=payee") == [paid.reference]
    assert refs(f"account={theirs.account_id}") == [theirs.reference]
    assert refs("payment_method=virement") == [theirs.reference]
    assert refs("created_after=2026-11-21T00:00:00%2B01:00") == [theirs.reference]
    assert refs("created_before=2026-11-21T00:00:00%2B01:00") == [paid.reference]
    assert refs("limit=1") == [theirs.reference]
    page = client.get("/api/v1/orders?limit=1&offset=1").json()
    assert page["count"] == 2 and [i["reference"] for i in page["items"]] == [paid.reference]
    bad = client.get("/api/v1/orders?status=inconnu&limit=0&created_after=hier")
    assert bad.status_code == 422
    assert set(bad.json()["errors"]) == {"status", "limit", "created_after"}


def test_visibility(api_client_for: Any, agent: Any, client_user: Any, outsider_client: Any,
                    billing: Any, paid: Any, theirs: Any) -> None:
    def refs(user: Any) -> set[str]:
        return {i["reference"] for i in api_client_for(user).get("/api/v1/orders")
                .json()["items"]}

    assert refs(agent) == {paid.reference}
    assert refs(client_user) == {paid.reference}
    assert refs(outsider_client) == {theirs.reference}
    assert refs(billing) == {paid.reference, theirs.reference}
    assert api_client_for(outsider_client).get(f"/api/v1/orders/{paid.pk}").status_code == 404
    assert api_client_for(agent).get(f"/api/v1/orders/{theirs.pk}").status_code == 404


def test_detail_has_lines_history_and_deadlines(api_client_for: Any, client_user: Any,
                                                paid: Any) -> None:
    response = api_client_for(client_user).get(f"/api/v1/orders/{paid.pk}")
    assert response.status_code == 200
    data = response.json()
    assert [(h["from_status"], h["to_status"]) for h in data["history"]] == [
        ("", "attente_paiement"), ("attente_paiement", "payee")]
    assert data["lines"][0]["total_ht_cents"] == 14900
    assert data["terms_version"] == "2026-11"
    assert datetime.fromisoformat(data["due_at"]) == paris(2026, 11, 25, 17, 0)
    assert data["billing_email"] == "client@test.fr"


def test_transition_by_a_supervisor(api_client_for: Any, supervisor: Any, paid: Any) -> None:
    client = api_client_for(supervisor)
    mark_checked(paid)
    with clock.frozen(paris(2026, 11, 23, 10, 0)):
        response = post_json(client, f"/api/v1/orders/{paid.pk}/transition",
                             {"to": "validee", "note": "OK"})
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["status"] == "validee"
    assert datetime.fromisoformat(data["activation_due_at"]) == paris(2026, 12, 1, 10, 0)
    assert data["history"][-1]["note"] == "OK" and data["history"][-1]["actor"] == supervisor.pk


def test_impossible_transition_is_a_409(api_client_for: Any, supervisor: Any,
                                        paid: Any) -> None:
    response = post_json(api_client_for(supervisor), f"/api/v1/orders/{paid.pk}/transition",
                         {"to": "activee"})
    assert response.status_code == 409
    assert response.json()["code"] == "invalid_transition"
    paid.refresh_from_db()
    assert paid.status == OrderStatus.PAID


def test_transition_input_errors(api_client_for: Any, supervisor: Any, paid: Any) -> None:
    client = api_client_for(supervisor)
    response = post_json(client, f"/api/v1/orders/{paid.pk}/transition", {"to": "payee"})
    assert response.status_code == 422 and "to" in response.json()["errors"]
    response = post_json(client, f"/api/v1/orders/{paid.pk}/transition", {"to": "annulee"})
    assert response.status_code == 422 and "note" in response.json()["errors"]
    paid.refresh_from_db()
    assert paid.status == OrderStatus.PAID


def test_transition_refused_to_others(api_client_for: Any, agent: Any, billing: Any,
                                      client_user: Any, other_agent: Any, paid: Any) -> None:
    url = f"/api/v1/orders/{paid.pk}/transition"
    for user, status in ((agent, 403), (billing, 403), (client_user, 403), (other_agent, 404)):
        assert post_json(api_client_for(user), url, {"to": "validee"}).status_code == status
    paid.refresh_from_db()
    assert paid.status == OrderStatus.PAID


def test_list_query_count_is_constant(api_client_for: Any, supervisor: Any, account: Any,
                                      django_assert_max_num_queries: Any) -> None:
    client = api_client_for(supervisor)
    make_order(account)
    with django_assert_max_num_queries(10) as few:
        assert client.get("/api/v1/orders").status_code == 200
    for _ in range(5):
        make_order(account)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get("/api/v1/orders").status_code == 200
