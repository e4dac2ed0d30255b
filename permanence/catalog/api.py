"""The public catalog in the REST API: published offers with their options (no auth)."""

from __future__ import annotations

from typing import Literal

from django.http import HttpRequest
from ninja import Query, Router, Schema

from . import selectors
from .models import Offer

router = Router(tags=["catalogue"])

KindFilter = Literal["forfait", "acte", "temps", "hybride", "option", "ponctuel"]


class OfferBase(Schema):
    id: int
    slug: str
    kind: str
    name: str
    name_en: str
    tagline: str
    description: str
    included: list[str]
    monthly_price_cents: int
    monthly_price_ttc_cents: int
    one_off_price_cents: int
    one_off_price_ttc_cents: int
    included_quantity: int
    included_unit: str
    unit_price_cents: int
    unit_price_ttc_cents: int
    unit: str
    hourly_rate_cents: int
    increment_minutes: int
    commitment_months: int
    notice_days: int
    activation_business_hours: int
    requires_information: bool
    vat_rate: str
    sectors: list[str]


class OptionOut(OfferBase):
    pass


class PlanOut(OfferBase):
    options: list[OptionOut]


class PlanFilters(Schema):
    kind: KindFilter | None = None


def _base(offer: Offer) -> dict[str, object]:
    return {
        "id": offer.pk, "slug": offer.slug, "kind": offer.kind, "name": offer.name,
        "name_en": offer.name_en, "tagline": offer.tagline, "description": offer.description,
        "included": [line.strip() for line in offer.included.splitlines() if line.strip()],
        "monthly_price_cents": offer.monthly_price_cents,
        "monthly_price_ttc_cents": offer.monthly_price_ttc_cents,
        "one_off_price_cents": offer.one_off_price_cents,
        "one_off_price_ttc_cents": offer.one_off_price_ttc_cents,
        "included_quantity": offer.included_quantity, "included_unit": offer.included_unit,
        "unit_price_cents": offer.unit_price_cents,
        "unit_price_ttc_cents": offer.unit_price_ttc_cents, "unit": offer.unit,
        "hourly_rate_cents": offer.hourly_rate_cents,
        "increment_minutes": offer.increment_minutes,
        "commitment_months": offer.commitment_months, "notice_days": offer.notice_days,
        "activation_business_hours": offer.activation_business_hours,
        "requires_information": offer.requires_information,
        "vat_rate": str(offer.vat_rate), "sectors": list(offer.sectors or []),
    }


def plan_out(offer: Offer) -> dict[str, object]:
    return _base(offer) | {"options": [_base(o) for o in offer.options.all()]}


@router.get("/catalog/plans", response=list[PlanOut], auth=None,
            summary="Offres publiées (public)")
def plans_list(request: HttpRequest, filters: Query[PlanFilters]) -> list[dict[str, object]]:
    """Every published offer (plans, options, one-off services) with the options it offers.

    Prices are integer cents HT, with the TTC equivalent; `vat_rate` is a decimal string
    ("20.00"). `?kind=forfait` (or acte, temps, hybride, option, ponctuel) filters."""
    return [plan_out(o) for o in selectors.published_offers(filters.kind)]


@router.get("/catalog/plans/{slug}", response=PlanOut, auth=None,
            summary="Une offre publiée (public)")
def plans_read(request: HttpRequest, slug: str) -> dict[str, object]:
    return plan_out(selectors.get_published_offer(slug))
