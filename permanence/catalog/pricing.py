"""Order and quote lines priced from the catalog; totals through core/money (no float)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from permanence.catalog.models import Offer
from permanence.core.money import Totals, compute_totals, line_total_cents


@dataclass(frozen=True)
class LineSpec:
    label: str
    quantity: int
    unit_price_cents: int  # HT, due at order time (first month + one-off part)
    vat_rate: Decimal
    discount_percent: Decimal = Decimal(0)
    recurring_cents: int = 0  # HT per month per unit, from the second month on
    offer: Offer | None = None

    @property
    def total_ht_cents(self) -> int:
        return line_total_cents(self.unit_price_cents, self.quantity, self.discount_percent)

    @property
    def recurring_total_cents(self) -> int:
        return line_total_cents(self.recurring_cents, self.quantity, self.discount_percent)


def line_from_offer(offer: Offer, quantity: int = 1,
                    discount_percent: Decimal = Decimal(0)) -> LineSpec:
    return LineSpec(label=offer.display_name, quantity=quantity,
                    unit_price_cents=offer.upfront_price_cents, vat_rate=offer.vat_rate,
                    discount_percent=discount_percent,
                    recurring_cents=offer.monthly_price_cents, offer=offer)


def totals_of(lines: Iterable[LineSpec]) -> Totals:
    return compute_totals((line.total_ht_cents, line.vat_rate) for line in lines)


def recurring_totals_of(lines: Iterable[LineSpec]) -> Totals:
    return compute_totals((line.recurring_total_cents, line.vat_rate) for line in lines)
