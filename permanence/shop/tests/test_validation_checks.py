"""Issue 9, "Orders and accounts": an order is validated only once its checks are done (the
daily check « Vérifier » and the client's information), unless a supervisor overrides them
with a reason kept in the order's history — through the order page and the API alike."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from permanence.core.errors import DomainError
from permanence.shop.models import OrderEvent, OrderStatus
from permanence.shop.order_checks import order_mark_checked
from permanence.shop.orders import (
    order_checks_pending,
    order_set_information_complete,
    order_transition,
)
from testkit.shop import make_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid(account: Any, client_user: Any) -> Any:
    return order_transition(order=make_order(account, client_user), to=OrderStatus.PAID)


def login(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def validate_form(user: Any, order: Any, **extra: str) -> Any:
    return login(user).post(reverse("orders:transition", args=[order.pk]),
                            {"to": "validee", "confirm": "1", "note": "", **extra})


def validate_api(api_client: Any, order: Any, body: dict[str, Any]) -> Any:
    return api_client.post(f"/api/v1/orders/{order.pk}/transition",
                           data=json.dumps({"to": "validee", **body}),
                           content_type="application/json")


# --- The service -----------------------------------------------------------------------------


def test_an_unchecked_order_cannot_be_validated(paid: Any, supervisor: Any) -> None:
    assert order_checks_pending(paid) == ["la commande n'a pas été vérifiée"]
    with pytest.raises(DomainError) as caught:
        order_transition(order=paid, to=OrderStatus.VALIDATED, actor=supervisor)
    assert caught.value.status == 409
    assert caught.value.code == "checks_pending"
    assert "override_reason" in caught.value.fields
    paid.refresh_from_db()
    assert paid.status == OrderStatus.PAID


def test_incomplete_information_also_blocks_validation(paid: Any, supervisor: Any) -> None:
    order_mark_checked(order=paid, actor=supervisor)
    order_set_information_complete(order=paid, actor=supervisor, complete=False)
    with pytest.raises(DomainError):
        order_transition(order=paid, to=OrderStatus.VALIDATED, actor=supervisor)
    order_set_information_complete(order=paid, actor=supervisor, complete=True)
    order = order_transition(order=paid, to=OrderStatus.VALIDATED, actor=supervisor)
    assert order.status == OrderStatus.VALIDATED
    assert not OrderEvent.objects.filter(kind=OrderEvent.Kind.CHECKS_OVERRIDDEN).exists()


def test_a_supervisor_overrides_with_a_reason_kept_in_the_history(paid: Any,
                                                                  supervisor: Any) -> None:
    order = order_transition(order=paid, to=OrderStatus.VALIDATED, actor=supervisor,
                             override_reason="  Client connu, contrôle demain  ")
    assert order.status == OrderStatus.VALIDATED
    event = OrderEvent.objects.get(order=order, kind=OrderEvent.Kind.CHECKS_OVERRIDDEN)
    assert event.actor == supervisor
    assert "Client connu, contrôle demain" in event.note
    assert "n'a pas été vérifiée" in event.note


def test_nobody_but_a_supervisor_may_override(paid: Any, billing: Any, agent: Any) -> None:
    for user in (billing, agent, None):
        with pytest.raises(DomainError) as caught:
            order_transition(order=paid, to=OrderStatus.VALIDATED, actor=user,
                             override_reason="Pressé")
        assert caught.value.status == 403
    paid.refresh_from_db()
    assert paid.status == OrderStatus.PAID
    assert not OrderEvent.objects.filter(kind=OrderEvent.Kind.CHECKS_OVERRIDDEN).exists()


# --- The order page --------------------------------------------------------------------------


def test_the_page_says_what_is_missing_and_refuses_without_a_reason(paid: Any,
                                                                   supervisor: Any) -> None:
    page = login(supervisor).get(reverse("orders:detail", args=[paid.pk])).content.decode()
    assert "Contrôles non faits" in page
    assert 'name="override_reason"' in page
    response = validate_form(supervisor, paid)
    assert response.status_code == 409
    assert "Validation impossible" in response.content.decode()
    paid.refresh_from_db()
    assert paid.status == OrderStatus.PAID


def test_the_page_validates_with_the_reason_and_shows_it(paid: Any, supervisor: Any) -> None:
    response = validate_form(supervisor, paid, override_reason="Urgence du client")
    assert response.status_code == 302
    paid.refresh_from_db()
    assert paid.status == OrderStatus.VALIDATED
    page = login(supervisor).get(reverse("orders:detail", args=[paid.pk])).content.decode()
    assert "Urgence du client" in page
    assert "Validation sans contrôles complets" not in page or "Urgence" in page


def test_a_checked_order_validates_without_a_reason(paid: Any, supervisor: Any) -> None:
    order_mark_checked(order=paid, actor=supervisor)
    page = login(supervisor).get(reverse("orders:detail", args=[paid.pk])).content.decode()
    assert "Contrôles non faits" not in page
    assert validate_form(supervisor, paid).status_code == 302
    paid.refresh_from_db()
    assert paid.status == OrderStatus.VALIDATED


# --- The API ---------------------------------------------------------------------------------


def test_the_api_refuses_then_accepts_a_supervisor_override(paid: Any, supervisor: Any,
                                                            api_client_for: Any) -> None:
    api = api_client_for(supervisor)
    response = validate_api(api, paid, {})
    assert response.status_code == 409
    assert response.json()["code"] == "checks_pending"
    assert "override_reason" in response.json()["errors"]
    response = validate_api(api, paid, {"override_reason": "Validé au téléphone"})
    assert response.status_code == 200
    assert response.json()["status"] == "validee"
    assert OrderEvent.objects.get(kind=OrderEvent.Kind.CHECKS_OVERRIDDEN).actor == supervisor


def test_the_api_refuses_an_override_by_other_roles(paid: Any, billing: Any, agent: Any,
                                                    api_client_for: Any) -> None:
    for user in (billing, agent):
        response = validate_api(api_client_for(user), paid, {"override_reason": "Pressé"})
        assert response.status_code == 403, user.role
    paid.refresh_from_db()
    assert paid.status == OrderStatus.PAID
