"""Reads of the catalog and of the public site: offers, pages, CGV versions, prices.

Everything here is public data (published rows only) except the `*_for_staff` selectors.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from permanence.core import clock
from permanence.core.errors import NotFound
from permanence.core.money import Totals

from .models import PLAN_KINDS, Offer, OfferKind, PublicPage, TermsVersion
from .pricing import line_from_offer, recurring_totals_of, totals_of

# The sectors that have a landing page: accounts.models.Sector values.
PUBLIC_SECTORS = ("medical", "juridique", "artisan_btp", "ecommerce")
MAX_QUANTITY = 99


# --- Offers ------------------------------------------------------------------------------------

def published_offers(kind: str | None = None) -> QuerySet[Offer]:
    """Published offers with their published options prefetched (two queries in all)."""
    options = Offer.objects.filter(is_published=True).order_by("position", "pk")
    qs = (Offer.objects.filter(is_published=True)
          .prefetch_related(Prefetch("options", queryset=options)))
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("position", "pk")


def comparison_plans() -> list[Offer]:
    """The plans compared side by side on /offres/ (forfait, à l'acte, temps passé, hybride)."""
    return list(published_offers().filter(kind__in=PLAN_KINDS))


def extras() -> tuple[list[Offer], list[Offer]]:
    """(options, one-off services) shown under the comparison table."""
    rows = list(Offer.objects.filter(is_published=True,
                                     kind__in=[OfferKind.OPTION, OfferKind.ONE_OFF]))
    return ([o for o in rows if o.kind == OfferKind.OPTION],
            [o for o in rows if o.kind == OfferKind.ONE_OFF])


def get_published_offer(slug: str) -> Offer:
    offer = published_offers().filter(slug=slug).first()
    if offer is None:
        raise NotFound(_("Cette offre n'existe pas ou n'est plus proposée."))
    return offer


def offers_for_sector(sector: str) -> list[Offer]:
    """Plans shown on a sector's landing page: those for this sector or for every sector.
    (Filtered in Python: the catalog is small and SQLite has no JSON containment lookup.)"""
    return [o for o in comparison_plans() if not o.sectors or sector in o.sectors]


def featured_plans(limit: int = 3) -> list[Offer]:
    """The first plans in catalog order, featured ones always among them."""
    plans = comparison_plans()
    featured = [p for p in plans if p.is_featured][:limit]
    others = [p for p in plans if not p.is_featured][:limit - len(featured)]
    return sorted(featured + others, key=lambda p: (p.position, p.pk))


def offers_for_staff() -> QuerySet[Offer]:
    return Offer.objects.prefetch_related("options").order_by("kind", "position", "pk")


# --- Live price --------------------------------------------------------------------------------

@dataclass(frozen=True)
class PriceQuote:
    offer: Offer
    quantity: int
    options: list[Offer]
    upfront: Totals  # due at order time: first month + one-off parts
    monthly: Totals  # then every month
    usage: list[Offer] = field(default_factory=list)  # lines billed on use (acts, time, overage)
    errors: dict[str, list[str]] = field(default_factory=dict)


def parse_price_request(offer: Offer, params: Mapping[str, Any]) -> PriceQuote:
    """Quantity and options from a query string (`quantity`, repeated `options`) → the price.

    Unknown or unpublished option slugs are refused as field errors, like a bad quantity.
    Each option counts once whatever the quantity, as the cart adds it (shop/cart.py)."""
    errors: dict[str, list[str]] = {}
    raw_quantity = str(params.get("quantity", "1") or "1").strip()
    try:
        quantity = int(raw_quantity)
    except ValueError:
        quantity = 0
    if not 1 <= quantity <= MAX_QUANTITY:
        errors["quantity"] = [_("Indiquez une quantité entre 1 et %(max)s.") % {
            "max": MAX_QUANTITY}]
        quantity = 1
    getlist = getattr(params, "getlist", None)
    wanted = getlist("options") if getlist else list(params.get("options", []) or [])
    allowed = {o.slug: o for o in offer.options.all()}  # prefetched: published only
    unknown = [s for s in wanted if s not in allowed]
    if unknown:
        errors["options"] = [_("Option inconnue : %(slugs)s.") % {"slugs": ", ".join(unknown)}]
    chosen = [o for slug, o in allowed.items() if slug in set(wanted)]
    lines = [line_from_offer(offer, quantity)] + [line_from_offer(o, 1) for o in chosen]
    usage = [o for o in [offer, *chosen] if o.unit_price_cents or o.hourly_rate_cents]
    return PriceQuote(offer=offer, quantity=quantity, options=chosen, upfront=totals_of(lines),
                      monthly=recurring_totals_of(lines), usage=usage, errors=errors)


# --- Pages and CGV -----------------------------------------------------------------------------

def get_published_page(slug: str) -> PublicPage:
    page = PublicPage.objects.filter(slug=slug, is_published=True).first()
    if page is None:
        raise NotFound(_("Cette page n'existe pas."))
    return page


def published_page_or_none(slug: str) -> PublicPage | None:
    return PublicPage.objects.filter(slug=slug, is_published=True).first()


def page_title(page: PublicPage) -> str:
    if (get_language() or "fr").startswith("en") and page.title_en:
        return page.title_en
    return page.title


def page_body(page: PublicPage) -> str:
    if (get_language() or "fr").startswith("en") and page.body_en.strip():
        return page.body_en
    return page.body


def published_terms() -> QuerySet[TermsVersion]:
    return TermsVersion.objects.filter(published_at__isnull=False,
                                       published_at__lte=clock.now()).order_by("-published_at",
                                                                               "-pk")


def current_terms() -> TermsVersion | None:
    """The CGV in force: the most recently published version (None before the first one)."""
    return published_terms().first()


def get_published_terms(version: str) -> TermsVersion:
    terms = published_terms().filter(version=version).first()
    if terms is None:
        raise NotFound(_("Cette version des CGV n'existe pas."))
    return terms


def terms_body(terms: TermsVersion) -> str:
    if (get_language() or "fr").startswith("en") and terms.body_en.strip():
        return terms.body_en
    return terms.body

