"""/api/v1/quotes: who sees what, the shape of a quote, drafts created by staff."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from permanence.core.money import compute_totals, line_total_cents
from permanence.shop.models import Quote, QuoteStatus
from permanence.shop.quotes import services
from permanence.shop.quotes.services import QuoteLineInput
from testkit.shop import make_offer

pytestmark = pytest.mark.django_db


def _quote(actor: Any, account: Any = None, *, send: bool = True) -> Quote:
    quote = services.quote_create(
        actor=actor, account=account,
        data={"requester_name": "Claire", "requester_email": "claire@exemple.fr"},
        lines=[QuoteLineInput(label="Forfait", quantity=2, unit_price_cents=14900,
                              vat_rate=Decimal("20.00"), discount_percent=Decimal("10"),
                              recurring=True)])
    return services.quote_send(actor=actor, quote=quote) if send else quote


@pytest.fixture
def quotes(admin_user: Any, account: Any, other_account: Any) -> dict[str, Quote]:
    return {"own": _quote(admin_user, account), "other": _quote(admin_user, other_account),
            "prospect": _quote(admin_user, send=False)}


def _post(client: Any, body: Any) -> Any:
    return client.post("/api/v1/quotes", json.dumps(body), content_type="application/json")


def test_staff_managers_list_every_quote_with_filters(
        api_client_for: Any, billing: Any, quotes: dict[str, Quote],
        django_assert_max_num_queries: Any) -> None:
    client = api_client_for(billing)
    with django_assert_max_num_queries(8):
        data = client.get("/api/v1/quotes").json()
    assert data["count"] == 3 and data["limit"] == 50 and data["offset"] == 0
    assert {item["reference"] for item in data["items"]} == {q.reference for q in quotes.values()}
    sent = client.get("/api/v1/quotes", {"status": "envoye"}).json()
    assert sent["count"] == 2
    by_account = client.get("/api/v1/quotes", {"account": quotes["own"].account_id}).json()
    assert [item["id"] for item in by_account["items"]] == [quotes["own"].pk]
    page = client.get("/api/v1/quotes", {"limit": 1, "offset": 1}).json()
    assert page["count"] == 3 and len(page["items"]) == 1


def test_clients_see_only_their_accounts_quotes(api_client_for: Any, client_user: Any,
                                                quotes: dict[str, Quote]) -> None:
    client = api_client_for(client_user)
    data = client.get("/api/v1/quotes").json()
    assert [item["id"] for item in data["items"]] == [quotes["own"].pk]
    assert client.get(f"/api/v1/quotes/{quotes['own'].pk}").status_code == 200
    response = client.get(f"/api/v1/quotes/{quotes['other'].pk}")
    assert response.status_code == 404 and response.json()["message"] == "Devis introuvable."


def test_agents_have_no_access(api_client_for: Any, agent: Any,
                               quotes: dict[str, Quote]) -> None:
    client = api_client_for(agent)
    response = client.get("/api/v1/quotes")
    assert response.status_code == 403 and response.json()["code"] == "forbidden"
    assert client.get(f"/api/v1/quotes/{quotes['own'].pk}").status_code == 403


def test_detail_shape_with_lines(api_client_for: Any, supervisor: Any,
                                 quotes: dict[str, Quote]) -> None:
    quote = quotes["own"]
    data = api_client_for(supervisor).get(f"/api/v1/quotes/{quote.pk}").json()
    assert data["reference"] == quote.reference and data["status"] == "envoye"
    assert data["account"] == quote.account_id
    assert data["total_ttc_cents"] == quote.total_ttc_cents
    assert data["valid_until"] == quote.valid_until.isoformat()  # type: ignore[union-attr]
    [line] = data["lines"]
    assert line == {"id": line["id"], "offer": None, "label": "Forfait", "quantity": 2,
                    "unit_price_cents": 14900, "discount_percent": "10.00",
                    "vat_rate": "20.00", "recurring": True, "total_ht_cents": 26820}
    assert "token" not in data


def test_staff_create_a_draft_with_lines(api_client_for: Any, admin_user: Any,
                                         account: Any) -> None:
    offer = make_offer("essentiel", monthly_price_cents=14900)
    response = _post(api_client_for(admin_user), {
        "account": account.pk, "requester_name": "Dr Martin",
        "requester_email": "martin@cabinet.fr", "valid_until": "2099-01-31",
        "lines": [{"offer": offer.pk, "quantity": 3, "discount_percent": "5"},
                  {"label": "Formation", "unit_price_cents": 9000, "vat_rate": "10"}]})
    assert response.status_code == 201, response.json()
    data = response.json()
    quote = Quote.objects.get(pk=data["id"])
    assert quote.status == QuoteStatus.DRAFT and quote.account == account
    assert [(line["label"], line["unit_price_cents"], line["recurring"], line["offer"])
            for line in data["lines"]] == [(offer.display_name, 14900, True, offer.pk),
                                           ("Formation", 9000, False, None)]
    expected = compute_totals([(line_total_cents(14900, 3, 5), "20"), (9000, "10")])
    assert (data["total_ht_cents"], data["total_vat_cents"], data["total_ttc_cents"]) == (
        expected.ht, expected.vat, expected.ttc)
    assert data["valid_until"] == "2099-01-31"


@pytest.mark.parametrize(("body", "field"), [
    ({"requester_name": "A", "requester_email": "a@b.fr",
      "lines": [{"label": "X", "unit_price_cents": 100, "discount_percent": 150}]},
     "lines.0.discount_percent"),
    ({"requester_name": "A", "requester_email": "a@b.fr",
      "lines": [{"label": "X", "unit_price_cents": -1}]}, "lines.0.unit_price_cents"),
    ({"requester_name": "A", "requester_email": "a@b.fr",
      "lines": [{"label": "X"}]}, "lines.0.unit_price_cents"),
    ({"requester_name": "A", "requester_email": "a@b.fr",
      "lines": [{"offer": 999999}]}, "lines.0.offer"),
    ({"requester_name": "A", "requester_email": "a@b.fr",
      "lines": [{"label": " ", "unit_price_cents": 100}]}, "lines.0.label"),
    ({"requester_name": "A", "requester_email": "pas-une-adresse"}, "requester_email"),
    ({"requester_name": "", "requester_email": "a@b.fr"}, "requester_name"),
    ({"requester_name": "A", "requester_email": "a@b.fr", "valid_until": "2001-01-01"},
     "valid_until"),
    ({"requester_name": "A", "requester_email": "a@b.fr", "valid_until": "hier"},
     "valid_until"),
    ({"requester_name": "A", "requester_email": "a@b.fr", "customer_kind": "x"},
     "customer_kind"),
    ({"requester_name": "A", "requester_email": "a@b.fr", "sector": "x"}, "sector"),
])
def test_invalid_create_is_a_french_422_without_write(api_client_for: Any, admin_user: Any,
                                                      body: dict[str, Any], field: str) -> None:
    response = _post(api_client_for(admin_user), body)
    assert response.status_code == 422, response.content
    data = response.json()
    assert data["message"] == "Certains champs sont invalides."
    assert field in data["errors"], data
    assert not Quote.objects.exists()


def test_create_on_an_unknown_account_is_404(api_client_for: Any, admin_user: Any) -> None:
    response = _post(api_client_for(admin_user), {"account": 999999, "requester_name": "A",
                                                  "requester_email": "a@b.fr"})
    assert response.status_code == 404 and "account" in response.json()["errors"]


@pytest.mark.parametrize("role", ["agent_user", "client_user"])
def test_only_quote_managers_create(api_client_for: Any, role: str, agent: Any,
                                    client_user: Any) -> None:
    user = {"agent_user": agent, "client_user": client_user}[role]
    response = _post(api_client_for(user), {"requester_name": "A",
                                            "requester_email": "a@b.fr"})
    assert response.status_code == 403
    assert response.json()["message"] == "Vous ne pouvez pas créer de devis."
    assert not Quote.objects.exists()


def test_anonymous_is_401(client: Any) -> None:
    assert client.get("/api/v1/quotes").status_code == 401
