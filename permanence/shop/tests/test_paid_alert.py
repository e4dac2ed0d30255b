"""Issue 9: supervisors are told live of each newly paid order — an in-app notification each
(administrators and supervisors, as for the other order alerts), pushed over the channel
layer to their bell once the payment is committed, never for a rolled-back one."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from django.db import transaction

from permanence.core.consumers import user_group
from permanence.inbox.models import Notification
from permanence.shop.models import OrderStatus
from permanence.shop.orders import order_transition
from testkit.shop import make_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def in_memory_layer(settings: Any) -> Any:
    settings.CHANNEL_LAYERS = {"default": {
        "BACKEND": "channels.layers.InMemoryChannelLayer"}}
    return get_channel_layer()


def test_each_supervisor_gets_a_notification(account: Any, client_user: Any, supervisor: Any,
                                            admin_user: Any, agent: Any, billing: Any) -> None:
    order = make_order(account, client_user, payment_method="sepa")
    order_transition(order=order, to=OrderStatus.PAID)
    notes = Notification.objects.filter(kind="order_paid")
    assert sorted(n.user.email for n in notes) == ["admin@test.fr", "superviseur@test.fr"]
    text = notes.first().text
    assert order.reference in text and "Cabinet Martin" in text
    assert "Prélèvement SEPA" in text
    assert notes.first().link == f"/app/boutique/commandes/{order.pk}/"


def test_paid_once_told_once(account: Any, supervisor: Any) -> None:
    order = make_order(account)
    order_transition(order=order, to=OrderStatus.PAID)
    order_transition(order=order, to=OrderStatus.PAID)  # a webhook redelivered: no move
    assert Notification.objects.filter(kind="order_paid").count() == 1


def test_the_notification_is_pushed_live_after_commit(account: Any, supervisor: Any,
                                                      in_memory_layer: Any,
                                                      django_capture_on_commit_callbacks: Any
                                                      ) -> None:
    order = make_order(account)

    def pay() -> None:
        with django_capture_on_commit_callbacks(execute=True):
            order_transition(order=order, to=OrderStatus.PAID)

    async def scenario() -> dict[str, Any]:
        channel = await in_memory_layer.new_channel()
        await in_memory_layer.group_add(user_group(supervisor.pk), channel)
        await sync_to_async(pay)()
        return await in_memory_layer.receive(channel)

    message = async_to_sync(scenario)()
    assert message["type"] == "notify"
    assert message["payload"]["kind"] == "order_paid"
    assert order.reference in message["payload"]["text"]
    assert message["payload"]["link"] == f"/app/boutique/commandes/{order.pk}/"


def test_a_rolled_back_payment_tells_no_one(account: Any, supervisor: Any,
                                           django_capture_on_commit_callbacks: Any) -> None:
    order = make_order(account)
    with django_capture_on_commit_callbacks() as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            order_transition(order=order, to=OrderStatus.PAID)
            raise RuntimeError("the payment's recording fails")
    assert not callbacks
    assert not Notification.objects.filter(kind="order_paid").exists()
