"""The shop imports neither payments nor billing: they register in shop/hooks.py (their
AppConfig.ready), and "is the order paid or past it?" is the order machine's answer."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from permanence.shop import hooks
from permanence.shop.models import OrderStatus
from permanence.shop.orders import PAID_OR_LATER


def test_paid_or_later_is_where_the_machine_no_longer_leads_to_paid() -> None:
    expected = {OrderStatus.PAID, OrderStatus.VALIDATED, OrderStatus.ACTIVATED,
                OrderStatus.CANCELLED, OrderStatus.REFUNDED}
    assert expected == PAID_OR_LATER
    for status in (OrderStatus.AWAITING_PAYMENT, OrderStatus.PAYMENT_PROCESSING,
                   OrderStatus.FAILED):
        assert status not in PAID_OR_LATER
    assert "payee" in PAID_OR_LATER  # the plain value read from the database


def test_payments_billing_and_desk_registered_their_hooks() -> None:
    from permanence.billing.services import subscriptions_create_for_order
    from permanence.desk.setup import setup_open_for_order

    assert hooks.HOOKS.payment_starter is not None
    # Billing creates the subscription, the desk opens the set-up checklist (issue 10).
    assert sorted(hooks.HOOKS.order_activated, key=lambda f: f.__name__) == [
        setup_open_for_order, subscriptions_create_for_order]


def test_the_payment_starter_is_the_payments_service_looked_up_at_each_call(
        monkeypatch: Any) -> None:
    from permanence.payments import services

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(services, "payment_start", lambda **kwargs: calls.append(kwargs))
    order: Any = object()
    hooks.start_payment(order=order, method="carte", success_url="ok", cancel_url="ko")
    assert calls == [{"order": order, "method": "carte", "success_url": "ok",
                      "cancel_url": "ko"}]


def test_without_a_payments_app_starting_a_payment_is_a_configuration_error(
        monkeypatch: Any) -> None:
    monkeypatch.setattr(hooks.HOOKS, "payment_starter", None)
    with pytest.raises(ImproperlyConfigured):
        hooks.start_payment(order=object(), method="carte",  # type: ignore[arg-type]
                            success_url="", cancel_url="")
