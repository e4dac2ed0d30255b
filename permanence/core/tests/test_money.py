"""Property tests of core/money.py: the rounding rules stated in its docstring, no float."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from permanence.core.money import (
    compute_totals,
    format_eur,
    line_total_cents,
    parse_eur,
    round_cents,
    to_decimal,
    ttc_cents,
    vat_cents,
)

cents = st.integers(min_value=0, max_value=10**10)
quantities = st.integers(min_value=1, max_value=10_000)
# VAT rates as the French rates and any 2-decimal percentage up to 100 %.
rates = st.one_of(st.sampled_from([Decimal("20"), Decimal("10"), Decimal("5.5"),
                                   Decimal("2.1"), Decimal("0")]),
                  st.decimals(min_value=0, max_value=100, places=2))
discounts = st.decimals(min_value=0, max_value=100, places=2)
lines = st.lists(st.tuples(cents, rates), max_size=30)


def exact_half_up(numerator: int, denominator: int) -> int:
    """Reference rounding, with integers only: numerator/denominator, half away from 0."""
    q, r = divmod(abs(numerator), denominator)
    if 2 * r >= denominator:
        q += 1
    return q if numerator >= 0 else -q


@given(cents, quantities, discounts)
def test_line_total_is_half_up_at_the_cent(unit: int, quantity: int,
                                           discount: Decimal) -> None:
    total = line_total_cents(unit, quantity, discount)
    # (unit × qty × (100 − d)) / 100, d having 2 decimals: all integers over 10 000.
    numerator = unit * quantity * int((Decimal(100) - discount) * 100)
    assert total == exact_half_up(numerator, 10_000)
    assert isinstance(total, int)
    assert 0 <= total <= unit * quantity


@given(cents, quantities)
def test_no_discount_is_exact(unit: int, quantity: int) -> None:
    assert line_total_cents(unit, quantity) == unit * quantity


@given(cents, rates)
def test_vat_is_half_up_at_the_cent(base: int, rate: Decimal) -> None:
    numerator = base * int(rate * 100)
    assert vat_cents(base, rate) == exact_half_up(numerator, 10_000)
    assert ttc_cents(base, rate) == base + vat_cents(base, rate)


def test_half_cent_rounds_up() -> None:
    assert vat_cents(1, "50") == 1  # 0.5 cent → 1
    assert vat_cents(2, "25") == 1  # 0.5 cent → 1
    assert vat_cents(1, "49") == 0
    assert round_cents(Decimal("-0.5")) == -1  # half away from zero
    assert line_total_cents(5, 1, "10") == 5  # 4.5 cents → 5
    assert line_total_cents(3, 1, "50") == 2  # 1.5 cents → 2


@given(lines)
def test_totals_are_the_sum_of_lines_and_vat_per_rate(items: list[tuple[int, Decimal]]) -> None:
    totals = compute_totals(items)
    assert totals.ht == sum(amount for amount, _rate in items)
    assert totals.ttc == totals.ht + totals.vat
    assert totals.vat == sum(vat for _rate, _base, vat in totals.by_rate)
    # One row per distinct rate, each the VAT of the rate's summed base (not of each line).
    distinct = {rate.normalize() for _amount, rate in items}
    assert [rate for rate, _b, _v in totals.by_rate] == sorted(distinct)
    for rate, base, vat in totals.by_rate:
        assert base == sum(a for a, r in items if r.normalize() == rate)
        assert vat == vat_cents(base, rate)
    for value in (totals.ht, totals.vat, totals.ttc):
        assert type(value) is int


@given(lines)
def test_per_rate_vat_differs_from_per_line_vat_by_less_than_a_cent_per_line(
        items: list[tuple[int, Decimal]]) -> None:
    per_line = sum(vat_cents(amount, rate) for amount, rate in items)
    assert abs(compute_totals(items).vat - per_line) <= len(items) // 2 + 1


@given(lines, st.randoms())
def test_totals_do_not_depend_on_line_order(items: list[tuple[int, Decimal]],
                                            rnd: object) -> None:
    shuffled = list(items)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    assert compute_totals(shuffled) == compute_totals(items)


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_format_and_parse_round_trip(amount: int) -> None:
    text = format_eur(amount)
    assert text.endswith("\u00a0€")
    if amount >= 0:
        assert parse_eur(text) == amount
    assert format_eur(amount, lang="en").replace("-", "").startswith("€")


@pytest.mark.parametrize("call", [
    lambda: to_decimal(0.1),  # type: ignore[arg-type]
    lambda: vat_cents(1000, 20.0),  # type: ignore[arg-type]
    lambda: ttc_cents(1000, 5.5),  # type: ignore[arg-type]
    lambda: line_total_cents(1000, 1, 10.0),  # type: ignore[arg-type]
    lambda: line_total_cents(1000, 1.5),  # type: ignore[arg-type]
    lambda: compute_totals([(1000, 20.0)]),  # type: ignore[list-item]
    # amounts in cents too, not only rates, discounts and quantities
    lambda: vat_cents(10.5, 20),  # type: ignore[arg-type]
    lambda: ttc_cents(10.5, 20),  # type: ignore[arg-type]
    lambda: line_total_cents(10.5, 1),  # type: ignore[arg-type]
    lambda: compute_totals([(10.7, "20")]),  # type: ignore[list-item]
])
def test_a_float_anywhere_raises_type_error(call: object) -> None:
    with pytest.raises(TypeError):
        call()  # type: ignore[operator]


@pytest.mark.parametrize("text", ["", "abc", "1,234", "1.2.3", "12,345", "NaN", "Infinity",
                                  "1e5", "sNaN"])
def test_parse_rejects_garbage_and_sub_cent_amounts(text: str) -> None:
    with pytest.raises((ValueError, ArithmeticError)):
        parse_eur(text)


def test_reference_rounding_agrees_with_decimal() -> None:
    for n in range(-300, 300):
        expected = int((Decimal(n) / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        assert exact_half_up(n, 100) == expected
