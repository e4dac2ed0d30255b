"""Money: integer cents and Decimal rates, never float.

Rounding rules (stated once, tested by property tests in core/tests/test_money.py):
- a line's amount HT = unit price (cents) × quantity × (1 − discount %), rounded to the cent,
  half away from zero (ROUND_HALF_UP);
- VAT is computed per rate on the sum of the lines HT at that rate, rounded to the cent the
  same way (the French practice of a VAT breakdown per rate on the invoice);
- total TTC = total HT + total VAT, exactly.
Amounts shown TTC to consumers for a single price use the same per-rate rule on that price.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

HUNDRED = Decimal(100)


def to_decimal(value: int | str | Decimal) -> Decimal:
    if isinstance(value, float):  # pragma: no cover - guarded by the type, kept as a tripwire
        raise TypeError("money never goes through float")
    return value if isinstance(value, Decimal) else Decimal(value)


def _cents(value: int) -> int:
    """Amounts in cents are ints (bool excluded); anything else is a programming error."""
    if type(value) is not int:
        raise TypeError(f"an amount in cents must be an int, not {type(value).__name__}")
    return value


def round_cents(amount: Decimal) -> int:
    """Decimal cents → integer cents, half away from zero."""
    return int(amount.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def line_total_cents(unit_price_cents: int, quantity: int | Decimal,
                     discount_percent: int | str | Decimal = 0) -> int:
    discount = to_decimal(discount_percent)
    if not Decimal(0) <= discount <= HUNDRED:
        raise ValueError("discount must be between 0 and 100 %")
    gross = Decimal(_cents(unit_price_cents)) * to_decimal(quantity)
    return round_cents(gross * (HUNDRED - discount) / HUNDRED)


def vat_cents(base_cents: int, rate: int | str | Decimal) -> int:
    return round_cents(Decimal(_cents(base_cents)) * to_decimal(rate) / HUNDRED)


def ttc_cents(ht_cents: int, rate: int | str | Decimal) -> int:
    return _cents(ht_cents) + vat_cents(ht_cents, rate)


@dataclass(frozen=True)
class Totals:
    ht: int
    vat: int
    ttc: int
    # rate → (base HT, VAT), rates sorted ascending
    by_rate: tuple[tuple[Decimal, int, int], ...] = field(default_factory=tuple)


def compute_totals(lines: Iterable[tuple[int, int | str | Decimal]]) -> Totals:
    """lines: (amount HT in cents, VAT rate in %) → totals with the per-rate breakdown."""
    bases: dict[Decimal, int] = {}
    for amount, rate in lines:
        key = to_decimal(rate).normalize()
        bases[key] = bases.get(key, 0) + _cents(amount)
    by_rate = tuple((rate, base, vat_cents(base, rate)) for rate, base in sorted(bases.items()))
    ht = sum(base for _rate, base, _vat in by_rate)
    vat = sum(v for _rate, _base, v in by_rate)
    return Totals(ht=ht, vat=vat, ttc=ht + vat, by_rate=by_rate)


def format_eur(cents: int, *, lang: str = "fr") -> str:
    """12345 → '123,45 €' (fr, narrow no-break space as thousands separator) or '€123.45'."""
    sign = "-" if cents < 0 else ""
    euros, rest = divmod(abs(int(cents)), 100)
    if lang.startswith("en"):
        return f"{sign}€{euros:,}.{rest:02d}"
    grouped = f"{euros:,}".replace(",", "\u202f")
    return f"{sign}{grouped},{rest:02d}\u00a0€"


def parse_eur(text: str) -> int:
    """'1 234,50' or '1234.5' → 123450 cents; ValueError on anything else."""
    cleaned = text.strip().replace("\u202f", "").replace("\u00a0", "").replace(" ", "")
    cleaned = cleaned.removesuffix("€").replace(",", ".")
    # Digits with at most one decimal point: no exponent, no NaN/Infinity, no sign tricks.
    if not cleaned or cleaned.count(".") > 1 or not cleaned.lstrip("-").replace(".", "").isdigit():
        raise ValueError(text)
    value = Decimal(cleaned)
    if not value.is_finite() or value.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ValueError(text)
    return round_cents(value * HUNDRED)
