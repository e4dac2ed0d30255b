"""The kernel's state-machine helper, exercised through the order and quote machines."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import transaction

from permanence.core import clock
from permanence.core.errors import DomainError
from permanence.core.transitions import apply, transition
from permanence.shop.models import Order, OrderStatus, OrderStatusChange
from permanence.shop.orders import ORDER_MACHINE
from testkit.shop import make_order

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture
def order(account: Any, client_user: Any) -> Order:
    return make_order(account, client_user)


def history(order: Order) -> list[tuple[str, str]]:
    return list(OrderStatusChange.objects.filter(order=order).order_by("pk")
                .values_list("from_status", "to_status"))


def test_a_move_locks_stamps_saves_and_appends_one_history_row(order: Order,
                                                                supervisor: Any) -> None:
    before = history(order)
    stamped: list[tuple[str, str]] = []
    with transaction.atomic(), clock.frozen(T0):
        moved = transition(ORDER_MACHINE, instance=order.pk, to=OrderStatus.CANCELLED,
                           actor=supervisor, note="client parti",
                           stamp=lambda o, a, b, actor, at: stamped.append((a, b)))
    assert moved.previous == OrderStatus.AWAITING_PAYMENT
    assert moved.at == T0
    assert stamped == [(OrderStatus.AWAITING_PAYMENT, OrderStatus.CANCELLED)]
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert history(order) == [*before, (OrderStatus.AWAITING_PAYMENT, OrderStatus.CANCELLED)]
    row = OrderStatusChange.objects.filter(order=order).order_by("pk").last()
    assert row is not None
    assert (row.actor, row.at, row.note) == (supervisor, T0, "client parti")


def test_a_move_the_table_forbids_is_a_409_and_changes_nothing(order: Order) -> None:
    before = history(order)
    with pytest.raises(DomainError) as refused, transaction.atomic():
        transition(ORDER_MACHINE, instance=order, to=OrderStatus.ACTIVATED)
    assert refused.value.status == 409
    assert refused.value.code == "invalid_transition"
    assert order.reference in refused.value.message
    assert "Activée" in refused.value.message
    order.refresh_from_db()
    assert order.status == OrderStatus.AWAITING_PAYMENT
    assert history(order) == before


def test_same_status_is_a_no_op_or_an_error_as_the_machine_asks(order: Order) -> None:
    before = history(order)
    with transaction.atomic():
        moved = transition(ORDER_MACHINE, instance=order, to=OrderStatus.AWAITING_PAYMENT)
    assert moved.previous == OrderStatus.AWAITING_PAYMENT
    assert history(order) == before  # never a from == to row
    with pytest.raises(DomainError), transaction.atomic():
        transition(ORDER_MACHINE, instance=order, to=OrderStatus.AWAITING_PAYMENT,
                   same_is_noop=False)


@pytest.mark.django_db(transaction=True)
def test_a_transition_outside_a_transaction_is_refused(account: Any, client_user: Any) -> None:
    order = make_order(account, client_user)
    with pytest.raises(RuntimeError, match="transaction.atomic"):
        apply(ORDER_MACHINE, order, to=OrderStatus.CANCELLED)
    order.refresh_from_db()
    assert order.status == OrderStatus.AWAITING_PAYMENT
