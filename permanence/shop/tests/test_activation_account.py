"""Issue 9: an activated order makes the buyer's account a client (« Actif »); the accounts app
writes the status (accounts.services.account_activate_for_order), called by the shop's
order_transition in the same transaction."""

from __future__ import annotations

from typing import Any

import pytest

from permanence.accounts.models import AccountStatus, ClientAccount
from permanence.audit.models import AuditEvent
from permanence.shop.models import OrderStatus
from permanence.shop.order_checks import order_mark_checked
from permanence.shop.orders import order_transition
from testkit.shop import make_order

pytestmark = pytest.mark.django_db


def activate(order: Any, supervisor: Any) -> Any:
    order_transition(order=order, to=OrderStatus.PAID)
    order_mark_checked(order=order, actor=supervisor)
    order_transition(order=order, to=OrderStatus.VALIDATED, actor=supervisor)
    return order_transition(order=order, to=OrderStatus.ACTIVATED, actor=supervisor)


@pytest.fixture
def prospect(db: Any) -> ClientAccount:
    return ClientAccount.objects.create(name="Cabinet Neuf", slug="cabinet-neuf",
                                        status=AccountStatus.PROSPECT)


def test_activation_makes_a_prospect_active(prospect: ClientAccount, supervisor: Any) -> None:
    order = make_order(prospect)
    order_transition(order=order, to=OrderStatus.PAID)
    prospect.refresh_from_db()
    assert prospect.status == AccountStatus.PROSPECT  # paid is not yet a client
    order_mark_checked(order=order, actor=supervisor)
    order_transition(order=order, to=OrderStatus.VALIDATED, actor=supervisor)
    prospect.refresh_from_db()
    assert prospect.status == AccountStatus.PROSPECT
    order_transition(order=order, to=OrderStatus.ACTIVATED, actor=supervisor)
    prospect.refresh_from_db()
    assert prospect.status == AccountStatus.ACTIVE


def test_the_change_is_audited_with_the_order(prospect: ClientAccount, supervisor: Any) -> None:
    order = activate(make_order(prospect), supervisor)
    changes = [e.changes for e in AuditEvent.objects.filter(
        target_type="accounts.clientaccount", target_id=str(prospect.pk)).order_by("pk")
        if "status" in (e.changes or {})]
    assert changes == [{"status": ["prospect", "actif"], "order": order.reference}]


def test_a_former_client_comes_back(prospect: ClientAccount, supervisor: Any) -> None:
    ClientAccount.objects.filter(pk=prospect.pk).update(status=AccountStatus.TERMINATED)
    activate(make_order(prospect), supervisor)
    prospect.refresh_from_db()
    assert prospect.status == AccountStatus.ACTIVE


def test_a_suspended_account_stays_suspended(prospect: ClientAccount, supervisor: Any) -> None:
    ClientAccount.objects.filter(pk=prospect.pk).update(status=AccountStatus.SUSPENDED)
    activate(make_order(prospect), supervisor)
    prospect.refresh_from_db()
    assert prospect.status == AccountStatus.SUSPENDED


def test_a_rolled_back_activation_leaves_the_prospect(prospect: ClientAccount,
                                                      supervisor: Any) -> None:
    from django.db import transaction

    order = make_order(prospect)
    order_transition(order=order, to=OrderStatus.PAID)
    order_mark_checked(order=order, actor=supervisor)
    order_transition(order=order, to=OrderStatus.VALIDATED, actor=supervisor)
    with pytest.raises(RuntimeError), transaction.atomic():
        order_transition(order=order, to=OrderStatus.ACTIVATED, actor=supervisor)
        raise RuntimeError("the activation fails later in the same transaction")
    prospect.refresh_from_db()
    assert prospect.status == AccountStatus.PROSPECT


def test_the_demo_shows_no_activated_order_on_a_prospect(db: Any) -> None:
    from django.core.management import call_command

    call_command("seed_demo", verbosity=0)
    assert not ClientAccount.objects.filter(status=AccountStatus.PROSPECT,
                                            orders__status=OrderStatus.ACTIVATED).exists()
    assert ClientAccount.objects.filter(orders__status=OrderStatus.ACTIVATED).exists()
