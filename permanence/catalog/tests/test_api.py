"""GET /api/v1/catalog/plans and /catalog/plans/{slug}: public, published only, constant queries."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from permanence.catalog.demo import seed_catalog
from permanence.catalog.models import Offer, OfferKind

FIELDS = {"id", "slug", "kind", "name", "description", "monthly_price_cents",
          "one_off_price_cents", "included_quantity", "included_unit", "unit_price_cents",
          "unit", "hourly_rate_cents", "commitment_months", "notice_days",
          "activation_business_hours", "vat_rate", "monthly_price_ttc_cents"}


@pytest.fixture
def catalog(db: Any) -> None:
    seed_catalog()


@pytest.mark.django_db
def test_plans_are_public_with_their_options(catalog: Any) -> None:
    response = Client().get("/api/v1/catalog/plans")
    assert response.status_code == 200
    body = response.json()
    by_slug = {p["slug"]: p for p in body}
    essentiel = by_slug["essentiel"]
    assert set(essentiel) >= FIELDS
    assert essentiel["kind"] == "forfait"
    assert essentiel["monthly_price_cents"] == 14900
    assert essentiel["monthly_price_ttc_cents"] == 17880
    assert essentiel["included_quantity"] == 100 and essentiel["included_unit"] == "appel"
    assert essentiel["unit_price_cents"] == 120 and essentiel["unit"] == "appel"
    assert essentiel["vat_rate"] == "20.00"
    option_slugs = [o["slug"] for o in essentiel["options"]]
    assert "sms" in option_slugs and "mise-en-place" in option_slugs
    sms = next(o for o in essentiel["options"] if o["slug"] == "sms")
    assert set(sms) >= FIELDS and "options" not in sms
    assert by_slug["temps-passe"]["hourly_rate_cents"] == 3800
    assert by_slug["a-l-acte"]["unit_price_cents"] == 190


@pytest.mark.django_db
def test_unpublished_offers_and_options_are_hidden(catalog: Any) -> None:
    Offer.objects.filter(slug__in=["premium", "sms"]).update(is_published=False)
    body = Client().get("/api/v1/catalog/plans").json()
    slugs = {p["slug"] for p in body}
    assert "premium" not in slugs and "sms" not in slugs
    essentiel = next(p for p in body if p["slug"] == "essentiel")
    assert "sms" not in [o["slug"] for o in essentiel["options"]]
    assert Client().get("/api/v1/catalog/plans/premium").status_code == 404


@pytest.mark.django_db
def test_kind_filter(catalog: Any) -> None:
    body = Client().get("/api/v1/catalog/plans", {"kind": "option"}).json()
    assert body and {p["kind"] for p in body} == {"option"}
    forfaits = Client().get("/api/v1/catalog/plans", {"kind": "forfait"}).json()
    assert [p["slug"] for p in forfaits] == ["essentiel", "confort", "premium"]
    bad = Client().get("/api/v1/catalog/plans", {"kind": "gratuit"})
    assert bad.status_code == 422
    assert "kind" in bad.json()["errors"]


def test_kind_filter_lists_every_offer_kind() -> None:
    from permanence.catalog.api import KindFilter

    assert set(KindFilter.__args__) == set(OfferKind.values)  # type: ignore[attr-defined]


@pytest.mark.django_db
def test_read_one_plan(catalog: Any) -> None:
    response = Client().get("/api/v1/catalog/plans/confort")
    assert response.status_code == 200
    body = response.json()
    assert body["slug"] == "confort" and body["name_en"] == "Comfort plan"
    assert Client().get("/api/v1/catalog/plans/inconnu").status_code == 404


@pytest.mark.django_db
def test_plans_query_count_is_constant(catalog: Any, django_assert_max_num_queries: Any) -> None:
    client = Client()
    with django_assert_max_num_queries(4) as first:
        client.get("/api/v1/catalog/plans")
    sms = Offer.objects.get(slug="sms")
    for i in range(30):
        Offer.objects.create(slug=f"extra-{i}", kind="forfait", name=f"Extra {i}").options.add(
            sms)
    with django_assert_max_num_queries(len(first.captured_queries)):
        assert len(client.get("/api/v1/catalog/plans").json()) >= 30


@pytest.mark.django_db
def test_plans_listed_in_openapi_as_public(db: Any) -> None:
    schema = Client().get("/api/v1/openapi.json").json()
    operation = schema["paths"]["/api/v1/catalog/plans"]["get"]
    assert not operation.get("security")
