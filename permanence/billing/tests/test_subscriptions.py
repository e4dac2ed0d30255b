"""Subscriptions: created through the shop's activation hook, then moved only by
subscription_transition (SUBSCRIPTION_TRANSITIONS), each move in SubscriptionStatusChange and
the audit log."""

from __future__ import annotations

from typing import Any

import pytest

from permanence.audit.models import AuditEvent
from permanence.billing.models import (
    SUBSCRIPTION_TRANSITIONS,
    Subscription,
    SubscriptionStatus,
    SubscriptionStatusChange,
)
from permanence.billing.services import subscription_transition
from permanence.core.errors import DomainError
from permanence.shop.models import OrderStatus
from permanence.shop.orders import order_transition
from testkit.shop import make_order, mark_checked

pytestmark = pytest.mark.django_db


@pytest.fixture
def subscription(account: Any, client_user: Any) -> Subscription:
    order = mark_checked(make_order(account, client_user))
    for to in (OrderStatus.PAID, OrderStatus.VALIDATED, OrderStatus.ACTIVATED):
        order_transition(order=order, to=to)
    return Subscription.objects.get(order=order)


def moves(subscription: Subscription) -> list[tuple[str, str]]:
    return list(SubscriptionStatusChange.objects.filter(subscription=subscription)
                .values_list("from_status", "to_status"))


def test_the_table_covers_every_status_and_cancelled_is_final() -> None:
    assert set(SUBSCRIPTION_TRANSITIONS) == set(SubscriptionStatus.values)
    assert SUBSCRIPTION_TRANSITIONS[SubscriptionStatus.CANCELLED] == set()


def test_activation_creates_an_active_subscription_with_no_move_yet(
        subscription: Subscription) -> None:
    assert subscription.status == SubscriptionStatus.ACTIVE
    assert moves(subscription) == []


def test_suspend_resume_cancel_each_recorded(subscription: Subscription,
                                             billing: Any) -> None:
    for to in (SubscriptionStatus.SUSPENDED, SubscriptionStatus.ACTIVE,
               SubscriptionStatus.CANCELLED):
        subscription = subscription_transition(subscription=subscription, to=to, actor=billing,
                                               note="test")
        assert subscription.status == to
    assert moves(subscription) == [("active", "suspendue"), ("suspendue", "active"),
                                   ("active", "resiliee")]
    assert set(SubscriptionStatusChange.objects.values_list("actor", flat=True)) == {
        billing.pk}
    audits = AuditEvent.objects.filter(target_type="billing.subscription",
                                       target_id=str(subscription.pk),
                                       action=AuditEvent.Action.UPDATE)
    assert [a.changes["status"] for a in audits.order_by("pk")] == [
        ["active", "suspendue"], ["suspendue", "active"], ["active", "resiliee"]]


def test_a_cancelled_subscription_does_not_come_back(subscription: Subscription) -> None:
    subscription_transition(subscription=subscription, to=SubscriptionStatus.CANCELLED)
    with pytest.raises(DomainError) as caught:
        subscription_transition(subscription=subscription.pk, to=SubscriptionStatus.ACTIVE)
    assert caught.value.status == 409
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.CANCELLED
    assert moves(subscription) == [("active", "resiliee")]


def test_same_status_is_a_no_op(subscription: Subscription) -> None:
    subscription_transition(subscription=subscription, to=SubscriptionStatus.ACTIVE)
    assert moves(subscription) == []
    assert not AuditEvent.objects.filter(target_type="billing.subscription",
                                         action=AuditEvent.Action.UPDATE).exists()
