"""The order state machine: transitions, history, deadlines in business hours, e-mails."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.db.models import F

from permanence.audit.models import AuditEvent
from permanence.billing.models import Subscription
from permanence.catalog.models import OfferKind
from permanence.core import clock
from permanence.core.errors import DomainError
from permanence.shop.models import (
    ORDER_TRANSITIONS,
    CustomerKind,
    OrderEvent,
    OrderStatus,
    OrderStatusChange,
)
from permanence.shop.orders import (
    NextStep,
    activation_waits_for_withdrawal,
    order_next_step,
    order_set_information_complete,
    order_transition,
)
from testkit.shop import make_offer, make_order, mark_checked

PARIS = ZoneInfo("Europe/Paris")


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)


@pytest.fixture
def committed(django_capture_on_commit_callbacks: Any) -> Any:
    """E-mails are queued on commit: `with committed(): ...` runs those callbacks."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def order(account: Any, client_user: Any, committed: Any) -> Any:
    with clock.frozen(paris(2026, 11, 20, 16, 0)), committed():  # a Friday
        return make_order(account, client_user)


def test_new_order_awaits_payment_with_history_and_confirmation(order: Any) -> None:
    assert order.status == OrderStatus.AWAITING_PAYMENT
    assert order.reference.startswith("CM-2026-")
    assert list(order.history.values_list("from_status", "to_status")) == [
        ("", OrderStatus.AWAITING_PAYMENT)]
    assert [m.subject for m in mail.outbox] == [
        f"Confirmation de votre commande {order.reference}"]
    assert order.total_ttc_cents == order.total_ht_cents + order.total_vat_cents == 17880


def test_references_are_consecutive(account: Any) -> None:
    first, second = make_order(account), make_order(account)
    assert int(second.reference[-6:]) == int(first.reference[-6:]) + 1


def test_payment_starts_the_24_business_hour_validation_clock(order: Any) -> None:
    # Paid Friday 16:00; the default calendar closes 18:00 and reopens Monday 08:30:
    # (08:30–12:30, 14:00–18:00): 2 h on Friday + 8 h Monday + 8 h Tuesday, then 4 h on
    # Wednesday morning and 2 h in the afternoon → Wednesday 16:00.
    with clock.frozen(paris(2026, 11, 20, 16, 0)):
        order = order_transition(order=order, to=OrderStatus.PAID)
    assert order.paid_at == paris(2026, 11, 20, 16, 0)
    assert order.validation_due_at == paris(2026, 11, 25, 16, 0)
    assert order.due_at == order.validation_due_at


def test_validation_starts_the_activation_clock_of_the_longest_offer(account: Any) -> None:
    setup = make_offer("mise-en-place", kind=OfferKind.ONE_OFF, monthly_price_cents=0,
                       one_off_price_cents=9000, activation_business_hours=72)
    order = make_order(account, offers=[make_offer(), setup])
    order_transition(order=order, to=OrderStatus.PAID)
    mark_checked(order)
    with clock.frozen(paris(2026, 11, 23, 9, 0)):  # Monday 09:00
        order = order_transition(order=order, to=OrderStatus.VALIDATED)
    # 72 business hours: 7 h 30 left on Monday, 4 × 8 h to Friday, 4 × 8 h the next week
    # (71 h 30 on Thursday evening), then 30 min on Friday → Friday 4 December 09:00.
    assert order.activation_due_at == paris(2026, 12, 4, 9, 0)


def test_incomplete_information_holds_the_clock_until_complete(account: Any,
                                                               supervisor: Any) -> None:
    setup = make_offer("formation", kind=OfferKind.ONE_OFF, monthly_price_cents=0,
                       one_off_price_cents=15000, requires_information=True)
    order = make_order(account, offers=[setup])
    assert order.information_complete is False
    with clock.frozen(paris(2026, 11, 23, 9, 0)):
        order = order_transition(order=order, to=OrderStatus.PAID)
    assert order.validation_due_at is None
    with clock.frozen(paris(2026, 11, 24, 10, 0)):  # Tuesday 10:00: the clock starts now
        order = order_set_information_complete(order=order, actor=supervisor)
    assert order.validation_due_at == paris(2026, 11, 27, 10, 0)  # Friday 10:00 (3 × 8 h)
    # A timeline event, not a status change from "payée" to "payée".
    assert not order.history.filter(from_status=F("to_status")).exists()
    [event] = order.events.all()
    assert (event.kind, event.actor, event.note) == (
        OrderEvent.Kind.INFORMATION, supervisor, "Informations du client complètes")


def test_impossible_transition_is_refused_and_changes_nothing(order: Any) -> None:
    with pytest.raises(DomainError) as err:
        order_transition(order=order, to=OrderStatus.ACTIVATED)
    assert err.value.status == 409
    order.refresh_from_db()
    assert order.status == OrderStatus.AWAITING_PAYMENT
    assert order.history.count() == 1


def test_transition_table_is_closed_over_known_statuses() -> None:
    assert set(ORDER_TRANSITIONS) == set(OrderStatus.values)
    for targets in ORDER_TRANSITIONS.values():
        assert targets <= set(OrderStatus.values)


def test_full_lifecycle_creates_subscription_and_writes_history(order: Any, supervisor: Any,
                                                                committed: Any) -> None:
    mail.outbox.clear()
    mark_checked(order)
    for to in (OrderStatus.PAID, OrderStatus.VALIDATED, OrderStatus.ACTIVATED):
        with committed():
            order = order_transition(order=order, to=to, actor=supervisor)
    assert order.validated_by == supervisor and order.activated_by == supervisor
    assert [h.to_status for h in OrderStatusChange.objects.filter(order=order)] == [
        OrderStatus.AWAITING_PAYMENT, OrderStatus.PAID, OrderStatus.VALIDATED,
        OrderStatus.ACTIVATED]
    sub = Subscription.objects.get(order=order)
    assert (sub.account, sub.monthly_price_cents, sub.included_quantity) == (
        order.account, 14900, 100)
    # Paid (and the invoice of what was paid, with its PDF), validated, activated.
    subjects = [m.subject for m in mail.outbox]
    assert len(subjects) == 4, subjects
    invoice_mail = next(m for m in mail.outbox if m.attachments)
    assert invoice_mail.attachments[0][0].endswith(".pdf")
    assert any("est validée" in s for s in subjects)
    assert AuditEvent.objects.filter(target_type="shop.order", target_id=str(order.pk),
                                     action="update").count() == 3


def test_same_transition_twice_is_a_no_op(order: Any, committed: Any) -> None:
    with committed():
        order_transition(order=order, to=OrderStatus.PAID)
    assert len(mail.outbox) == 3  # the order's two mails and its invoice
    mail.outbox.clear()
    with committed():
        order_transition(order=order, to=OrderStatus.PAID)
    assert order.history.count() == 2 and mail.outbox == []


def test_failed_payment_mail_carries_a_retry_link(order: Any, committed: Any) -> None:
    mail.outbox.clear()
    with committed():
        order_transition(order=order, to=OrderStatus.FAILED)
    assert f"/commande/{order.reference}/payer/" in mail.outbox[0].body


def test_consumer_order_records_withdrawal_period(account: Any) -> None:
    with clock.frozen(paris(2026, 11, 20, 16, 0)):
        order = make_order(account, customer_kind="particulier",
                           start_before_withdrawal_end=True)
    assert order.withdrawal_ends_at == paris(2026, 12, 4, 16, 0)
    assert order.start_before_withdrawal_end is True
    assert order.terms is not None and order.terms_accepted_at is not None


def test_empty_order_is_refused(account: Any) -> None:
    from permanence.shop.services import order_create

    with pytest.raises(DomainError) as err:
        order_create(account=account, buyer=None, lines=[], billing={})
    assert err.value.status == 422 and "lines" in err.value.fields


def test_subscription_keeps_the_saved_payment_method_for_recurring_debits(order: Any) -> None:
    from permanence.payments.models import Payment

    Payment.objects.create(order=order, provider="stripe", method="carte", status="reussi",
                           amount_cents=order.total_ttc_cents, idempotency_key="k-1",
                           provider_customer_id="cus_123", provider_payment_method_id="pm_456",
                           created_at=clock.now(), succeeded_at=clock.now())
    mark_checked(order)
    for to in (OrderStatus.PAID, OrderStatus.VALIDATED, OrderStatus.ACTIVATED):
        order_transition(order=order, to=to)
    sub = Subscription.objects.get(order=order)
    assert (sub.provider_customer_id, sub.provider_payment_method_id) == ("cus_123", "pm_456")


def test_activation_waits_for_the_withdrawal_period_of_consumers_only(account: Any) -> None:
    start = paris(2026, 11, 20, 10, 0)
    with clock.frozen(start):
        consumer = make_order(account, customer_kind=CustomerKind.CONSUMER)
        early = make_order(account, customer_kind=CustomerKind.CONSUMER,
                           start_before_withdrawal_end=True)
        pro = make_order(account)
    ends = paris(2026, 12, 4, 10, 0)
    assert activation_waits_for_withdrawal(consumer, start) == ends
    assert activation_waits_for_withdrawal(consumer, ends - timedelta(seconds=1)) == ends
    assert activation_waits_for_withdrawal(consumer, ends) is None  # the period is over
    assert activation_waits_for_withdrawal(early, start) is None  # asked to start early
    assert activation_waits_for_withdrawal(pro, start) is None  # no withdrawal right


def test_the_next_step_promised_to_the_client_follows_the_order(account: Any,
                                                                 supervisor: Any) -> None:
    setup = make_offer("mise-en-place", kind=OfferKind.ONE_OFF, unit_price_cents=0,
                       one_off_price_cents=15000, requires_information=True)
    order = make_order(account, offers=[setup])
    assert order_next_step(order) == NextStep("awaiting_payment")
    with clock.frozen(paris(2026, 11, 23, 9, 0)):
        order = order_transition(order=order, to=OrderStatus.PAID)
    assert order_next_step(order) == NextStep("awaiting_information")
    with clock.frozen(paris(2026, 11, 24, 10, 0)):
        order = order_set_information_complete(order=order, actor=supervisor)
    assert order_next_step(order) == NextStep("validation", paris(2026, 11, 27, 10, 0))
    mark_checked(order)
    with clock.frozen(paris(2026, 11, 25, 10, 0)):
        order = order_transition(order=order, to=OrderStatus.VALIDATED, actor=supervisor)
    assert order_next_step(order) == NextStep("activation", order.activation_due_at)
    with clock.frozen(paris(2026, 11, 26, 10, 0)):
        order = order_transition(order=order, to=OrderStatus.ACTIVATED, actor=supervisor)
    assert order_next_step(order) == NextStep("active", paris(2026, 11, 26, 10, 0))
