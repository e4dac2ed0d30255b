"""The daily check of new orders and the overdue alerts: sent once, to the right people."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core import mail

from permanence.core import clock, scheduler
from permanence.inbox.models import Notification
from permanence.shop import order_checks as checks
from permanence.shop.models import Order, OrderEvent, OrderStatus
from permanence.shop.orders import order_set_information_complete, order_transition
from testkit.shop import make_order, mark_checked

PARIS = ZoneInfo("Europe/Paris")

pytestmark = pytest.mark.django_db


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)


@pytest.fixture
def run(django_capture_on_commit_callbacks: Any) -> Any:
    """run(job, at) → the job's result, its on-commit e-mails sent."""
    def go(job: Any, at: datetime) -> str:
        with clock.frozen(at), django_capture_on_commit_callbacks(execute=True):
            return str(job(now=at))

    return go


@pytest.fixture
def managers(admin_user: Any, supervisor: Any, agent: Any, billing: Any) -> list[Any]:
    return [admin_user, supervisor]


def paid_order(account: Any, at: datetime) -> Order:
    with clock.frozen(at):
        order = make_order(account)
        return order_transition(order=order, to=OrderStatus.PAID)


def test_jobs_are_registered_with_the_scheduler() -> None:
    assert scheduler.REGISTRY["shop.daily_check"].every == timedelta(minutes=15)
    assert scheduler.REGISTRY["shop.overdue_check"].every == timedelta(minutes=5)


def test_daily_check_is_sent_once_per_business_morning(managers: Any, account: Any,
                                                      run: Any) -> None:
    first = paid_order(account, paris(2026, 11, 23, 15, 0))  # Monday afternoon
    second = paid_order(account, paris(2026, 11, 23, 16, 0))
    checked = paid_order(account, paris(2026, 11, 23, 16, 30))
    Order.objects.filter(pk=checked.pk).update(checked_at=paris(2026, 11, 23, 17, 0))
    mail.outbox.clear()
    # Tuesday 07:00: the office opens at 08:30, too early.
    assert run(checks.daily_check_run, paris(2026, 11, 24, 7, 0)) == "not a business morning"
    assert run(checks.daily_check_run, paris(2026, 11, 24, 8, 45)) == "sent (2 orders)"
    assert sorted(m.to[0] for m in mail.outbox) == ["admin@test.fr", "superviseur@test.fr"]
    body = mail.outbox[0].body
    assert first.reference in body and second.reference in body
    assert checked.reference not in body
    assert Notification.objects.filter(kind="order_daily_check").count() == 2
    # The same day, never again (several schedulers, every 15 minutes).
    assert run(checks.daily_check_run, paris(2026, 11, 24, 9, 0)) == "already sent today"
    assert run(checks.daily_check_run, paris(2026, 11, 24, 15, 0)) == "already sent today"
    assert len(mail.outbox) == 2
    # Saturday: not a business day. Monday: again.
    assert run(checks.daily_check_run, paris(2026, 11, 28, 9, 0)) == "not a business morning"
    assert run(checks.daily_check_run, paris(2026, 11, 30, 9, 0)).startswith("sent")
    assert len(mail.outbox) == 4


def test_daily_check_sends_nothing_when_everything_is_checked(managers: Any, account: Any,
                                                              run: Any) -> None:
    order = paid_order(account, paris(2026, 11, 23, 15, 0))
    Order.objects.filter(pk=order.pk).update(checked_at=paris(2026, 11, 23, 15, 5))
    mail.outbox.clear()
    assert run(checks.daily_check_run, paris(2026, 11, 24, 9, 0)) == "nothing to check"
    assert mail.outbox == []


def test_overdue_alert_once_per_order_and_deadline(managers: Any, account: Any,
                                                   run: Any) -> None:
    order = paid_order(account, paris(2026, 11, 20, 17, 0))  # due Wed 25 Nov 17:00
    assert order.validation_due_at == paris(2026, 11, 25, 17, 0)
    assert run(checks.overdue_run, paris(2026, 11, 25, 16, 59)) == "validation 0, activation 0"
    assert run(checks.overdue_run, paris(2026, 11, 25, 17, 0)) == "validation 1, activation 0"
    for minutes in (5, 10, 60):
        assert run(checks.overdue_run, paris(2026, 11, 25, 17, 0) + timedelta(
            minutes=minutes)) == "validation 0, activation 0"
    notes = Notification.objects.filter(kind="order_overdue")
    assert sorted(n.user.email for n in notes) == ["admin@test.fr", "superviseur@test.fr"]
    assert order.reference in notes[0].text
    assert notes[0].link.endswith(f"/app/boutique/commandes/{order.pk}/")  # the bell leads there
    alerts = OrderEvent.objects.filter(order=order, kind=OrderEvent.Kind.VALIDATION_OVERDUE)
    assert alerts.count() == 1
    assert "25/11/2026 17:00" in alerts.get().note
    # Validated late: the activation deadline gets its own alert, once.
    mark_checked(order)
    with clock.frozen(paris(2026, 11, 26, 9, 0)):
        order_transition(order=order, to=OrderStatus.VALIDATED)
    order.refresh_from_db()
    due = order.activation_due_at
    assert run(checks.overdue_run, due) == "validation 0, activation 1"
    assert run(checks.overdue_run, due + timedelta(minutes=5)) == "validation 0, activation 0"
    assert Notification.objects.filter(kind="order_overdue").count() == 4


def test_a_restarted_clock_is_a_new_deadline(managers: Any, account: Any, run: Any,
                                            supervisor: Any) -> None:
    order = paid_order(account, paris(2026, 11, 20, 17, 0))
    assert run(checks.overdue_run, paris(2026, 11, 25, 17, 0)) == "validation 1, activation 0"
    # The information turns out incomplete, then complete again: a new 24-hour clock.
    with clock.frozen(paris(2026, 11, 26, 9, 0)):
        order_set_information_complete(order=order, actor=supervisor, complete=False)
        order_set_information_complete(order=order, actor=supervisor, complete=True)
    order.refresh_from_db()
    assert run(checks.overdue_run, order.validation_due_at - timedelta(minutes=1)) == \
        "validation 0, activation 0"
    assert run(checks.overdue_run, order.validation_due_at) == "validation 1, activation 0"
    assert run(checks.overdue_run, order.validation_due_at + timedelta(hours=1)) == \
        "validation 0, activation 0"


def test_orders_past_the_stage_are_not_alerted(managers: Any, account: Any, run: Any) -> None:
    order = paid_order(account, paris(2026, 11, 20, 17, 0))
    with clock.frozen(paris(2026, 11, 25, 16, 0)):
        order_transition(order=order, to=OrderStatus.CANCELLED, note="Doublon")
    assert run(checks.overdue_run, paris(2026, 11, 26, 9, 0)) == "validation 0, activation 0"
    assert not Notification.objects.filter(kind="order_overdue").exists()


def test_mark_checked_refuses_agents(agent: Any, account: Any) -> None:
    from permanence.core.errors import Forbidden

    order = paid_order(account, paris(2026, 11, 20, 17, 0))
    with pytest.raises(Forbidden):
        checks.order_mark_checked(order=order, actor=agent)
    order.refresh_from_db()
    assert order.checked_at is None


def test_notifications_page_links_order_alerts_to_the_order(admin_user: Any) -> None:
    from django.test import Client

    Notification.objects.create(user=admin_user, kind="order_overdue", text="Commande en retard",
                                link="/app/boutique/commandes/42/", created_at=clock.now())
    Notification.objects.create(user=admin_user, kind="other", text="Sans lien",
                                created_at=clock.now())
    client = Client()
    client.force_login(admin_user)
    html = client.get("/app/boite/notifications/").content.decode()
    assert '<a href="/app/boutique/commandes/42/">Commande en retard</a>' in html
    assert 'href="#"' not in html and "Sans lien" in html
