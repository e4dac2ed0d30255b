"""Property tests of the order pricing (catalog/pricing.py) and of what order_create stores."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from permanence.catalog.pricing import LineSpec, line_from_offer, recurring_totals_of, totals_of
from permanence.core.money import compute_totals, line_total_cents, vat_cents
from permanence.shop.cart import cart_summary

RATES = [Decimal("20.00"), Decimal("10.00"), Decimal("5.50"), Decimal("2.10"), Decimal("0")]

specs = st.builds(
    LineSpec,
    label=st.just("Ligne"),
    quantity=st.integers(min_value=1, max_value=500),
    unit_price_cents=st.integers(min_value=0, max_value=5_000_000),
    vat_rate=st.sampled_from(RATES),
    discount_percent=st.decimals(min_value=0, max_value=100, places=2),
    recurring_cents=st.integers(min_value=0, max_value=1_000_000),
)


@given(st.lists(specs, max_size=25))
def test_order_total_is_the_sum_of_its_lines(lines: list[LineSpec]) -> None:
    totals = totals_of(lines)
    assert totals.ht == sum(line.total_ht_cents for line in lines)
    assert totals.ttc == totals.ht + totals.vat


@given(st.lists(specs, max_size=25))
def test_vat_is_computed_per_rate(lines: list[LineSpec]) -> None:
    totals = totals_of(lines)
    for rate, base, vat in totals.by_rate:
        assert base == sum(line.total_ht_cents for line in lines
                           if line.vat_rate.normalize() == rate)
        assert vat == vat_cents(base, rate)
    assert totals.vat == sum(vat for _r, _b, vat in totals.by_rate)
    assert len(totals.by_rate) == len({line.vat_rate.normalize() for line in lines})


@given(specs)
def test_line_amount_is_rounded_half_up_once(line: LineSpec) -> None:
    exact = (Decimal(line.unit_price_cents) * line.quantity
             * (100 - line.discount_percent) / 100)
    assert abs(Decimal(line.total_ht_cents) - exact) <= Decimal("0.5")
    assert line.total_ht_cents == line_total_cents(line.unit_price_cents, line.quantity,
                                                   line.discount_percent)


@given(st.lists(specs, max_size=25))
def test_recurring_totals_use_the_same_rules(lines: list[LineSpec]) -> None:
    totals = recurring_totals_of(lines)
    assert totals.ht == sum(line.recurring_total_cents for line in lines)
    assert totals == compute_totals((line.recurring_total_cents, line.vat_rate)
                                    for line in lines)


@given(st.lists(specs, max_size=10))
def test_amounts_are_integers_never_float(lines: list[LineSpec]) -> None:
    totals = totals_of(lines)
    for value in (totals.ht, totals.vat, totals.ttc,
                  *(line.total_ht_cents for line in lines)):
        assert type(value) is int
    for rate, base, vat in totals.by_rate:
        assert isinstance(rate, Decimal) and type(base) is int and type(vat) is int


def test_a_float_price_in_a_line_raises_type_error() -> None:
    line = LineSpec(label="x", quantity=1, unit_price_cents=1000,
                    vat_rate=20.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        totals_of([line])
    line = LineSpec(label="x", quantity=1, unit_price_cents=1000, vat_rate=Decimal(20),
                    discount_percent=12.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        _ = line.total_ht_cents


# --- Through the database: the cart and the order agree with the pricing ---------------------


@pytest.mark.django_db
@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(min_value=0, max_value=200_000),
                          st.integers(min_value=0, max_value=50_000),
                          st.sampled_from(RATES), st.integers(min_value=1, max_value=20)),
                min_size=1, max_size=4))
def test_cart_and_order_totals_agree(account: Any, client_user: Any,
                                     rows: list[tuple[int, int, Decimal, int]]) -> None:
    from django.db import transaction

    from permanence.shop.cart import cart_add
    from permanence.shop.models import Order
    from permanence.shop.services import order_create
    from testkit.shop import make_offer, make_terms

    sid = transaction.savepoint()
    try:
        cart = None
        for i, (monthly, one_off, rate, quantity) in enumerate(rows):
            make_offer(f"offre-{i}", monthly_price_cents=monthly, one_off_price_cents=one_off,
                       vat_rate=rate)
            cart = cart_add(cart=cart, user=client_user, offer=f"offre-{i}", quantity=quantity)
        summary = cart_summary(cart)
        lines = [line_from_offer(row.offer, row.line.quantity) for row in summary.rows]
        assert summary.totals == totals_of(lines)
        if summary.totals.ht == 0:
            return
        order = order_create(account=account, buyer=client_user, lines=lines,
                             billing={"name": "A", "email": "a@b.fr", "address": "1 rue"},
                             terms=make_terms())
        order = Order.objects.get(pk=order.pk)
        stored = list(order.lines.all())
        assert order.total_ht_cents == sum(line.total_ht_cents for line in stored)
        assert order.total_ttc_cents == order.total_ht_cents + order.total_vat_cents
        recomputed = compute_totals((line.total_ht_cents, line.vat_rate) for line in stored)
        assert (recomputed.ht, recomputed.vat, recomputed.ttc) == (
            order.total_ht_cents, order.total_vat_cents, order.total_ttc_cents)
        assert order.recurring_ht_cents == summary.recurring.ht
    finally:
        transaction.savepoint_rollback(sid)
