"""The buyer's order pages: status page, payment retry, return page after payment."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from permanence.accounts.models import Membership, OperatorIdentity
from permanence.payments import services as payments
from permanence.shop.models import OrderStatus, PaymentMethod
from permanence.shop.orders import order_transition
from testkit.shop import make_order

pytestmark = pytest.mark.django_db

PAGES = ("shop:order_detail", "shop:order_pay", "shop:order_thanks")


@pytest.fixture
def order(account: Any, client_user: Any) -> Any:
    return make_order(account, client_user, payment_method=PaymentMethod.TRANSFER)


def logged(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("name", PAGES)
def test_buyer_sees_the_order_pages(order: Any, client_user: Any, name: str) -> None:
    response = logged(client_user).get(reverse(name, args=[order.reference]))
    assert response.status_code == 200
    assert order.reference in response.content.decode()


@pytest.mark.parametrize("name", PAGES)
def test_another_member_of_the_account_sees_them(order: Any, account: Any, make_user: Any,
                                                 name: str) -> None:
    colleague = make_user("collegue@test.fr", "client")
    Membership.objects.create(user=colleague, account=account)
    assert logged(colleague).get(reverse(name, args=[order.reference])).status_code == 200


@pytest.mark.parametrize("name", PAGES)
def test_outsiders_and_staff_get_a_404(order: Any, outsider_client: Any, admin_user: Any,
                                       agent: Any, other_account: Any, name: str) -> None:
    for user in (outsider_client, admin_user, agent):
        response = logged(user).get(reverse(name, args=[order.reference]))
        assert response.status_code == 404, user
    assert logged(outsider_client).post(
        reverse("shop:order_pay", args=[order.reference])).status_code == 404


@pytest.mark.parametrize("name", PAGES)
def test_anonymous_is_sent_to_the_login_page(order: Any, name: str) -> None:
    response = Client().get(reverse(name, args=[order.reference]))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_unknown_reference_is_a_404(client_user: Any) -> None:
    assert logged(client_user).get(
        reverse("shop:order_detail", args=["CM-2026-999999"])).status_code == 404


def test_order_page_shows_status_lines_totals_and_transfer_instructions(
        order: Any, client_user: Any, settings: Any) -> None:
    settings.PAYMENTS_TEST_MODE = False
    OperatorIdentity.objects.create(pk=1, legal_name="Permanence SAS",
                                    iban="FR7630006000011234567890189")
    body = logged(client_user).get(reverse("shop:order_detail",
                                           args=[order.reference])).content.decode()
    assert "En attente de paiement" in body
    assert order.transfer_reference in body and "FR7630006000011234567890189" in body
    assert "Forfait Essentiel" in body
    assert "178,80" in body  # 149 € HT + 20 % VAT
    assert "Mode test" not in body


def test_test_mode_is_announced(order: Any, client_user: Any, settings: Any) -> None:
    settings.PAYMENTS_TEST_MODE = True
    for name in PAGES:
        body = logged(client_user).get(reverse(name, args=[order.reference])).content.decode()
        assert "Mode test" in body, name


def test_paid_order_shows_the_validation_deadline(order: Any, client_user: Any) -> None:
    order_transition(order=order, to=OrderStatus.PAID)
    order.refresh_from_db()
    body = logged(client_user).get(reverse("shop:order_detail",
                                           args=[order.reference])).content.decode()
    assert "Validation prévue au plus tard" in body
    assert "Régler par virement" not in body


def test_thanks_page_waits_for_the_webhook(order: Any, client_user: Any) -> None:
    body = logged(client_user).get(reverse("shop:order_thanks",
                                           args=[order.reference])).content.decode()
    assert "Paiement en cours de confirmation" in body
    order.refresh_from_db()
    assert order.status == OrderStatus.AWAITING_PAYMENT  # this page changes nothing
    order_transition(order=order, to=OrderStatus.PAID)
    body = logged(client_user).get(reverse("shop:order_thanks",
                                           args=[order.reference])).content.decode()
    assert "Votre paiement est confirmé" in body


def test_retry_a_failed_payment_by_transfer(order: Any, client_user: Any) -> None:
    order_transition(order=order, to=OrderStatus.FAILED)
    client = logged(client_user)
    page = client.get(reverse("shop:order_pay", args=[order.reference]))
    assert page.status_code == 200 and "pas abouti" in page.content.decode()
    response = client.post(reverse("shop:order_pay", args=[order.reference]),
                           {"payment_method": "virement"})
    assert response.status_code == 302
    assert response["Location"] == reverse("shop:order_detail", args=[order.reference])
    order.refresh_from_db()
    assert order.status == OrderStatus.AWAITING_PAYMENT
    assert list(order.history.values_list("to_status", flat=True)) == [
        "attente_paiement", "echec", "attente_paiement"]
    assert order.payments.filter(provider="virement").exists()


def test_retry_by_card_redirects_to_the_hosted_page(order: Any, client_user: Any,
                                                   monkeypatch: Any) -> None:
    calls = []

    def fake(**kwargs: Any) -> Any:
        calls.append(kwargs)
        return SimpleNamespace(checkout_url="https://checkout.stripe.test/c/pay/cs_2")

    monkeypatch.setattr(payments, "payment_start", fake)
    order_transition(order=order, to=OrderStatus.FAILED)
    response = logged(client_user).post(reverse("shop:order_pay", args=[order.reference]),
                                        {"payment_method": "carte"})
    assert response.status_code == 302
    assert response["Location"] == "https://checkout.stripe.test/c/pay/cs_2"
    order.refresh_from_db()
    assert order.status == OrderStatus.AWAITING_PAYMENT and order.payment_method == "carte"
    assert calls[0]["method"] == "carte"


def test_retry_on_a_paid_order_changes_nothing(order: Any, client_user: Any) -> None:
    order_transition(order=order, to=OrderStatus.PAID)
    response = logged(client_user).post(reverse("shop:order_pay", args=[order.reference]),
                                        {"payment_method": "carte"})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID and order.payment_method == "virement"
    assert not order.payments.exists()


def test_retry_with_a_bad_method_is_a_field_error(order: Any, client_user: Any) -> None:
    order_transition(order=order, to=OrderStatus.FAILED)
    response = logged(client_user).post(reverse("shop:order_pay", args=[order.reference]),
                                        {"payment_method": "bitcoin"})
    assert response.status_code == 422
    order.refresh_from_db()
    assert order.status == OrderStatus.FAILED
