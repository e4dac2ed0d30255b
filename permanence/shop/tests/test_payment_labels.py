"""Issue 9: a card (or SEPA) order shows no transfer reference, and the payment methods read
« Carte bancaire », « Prélèvement SEPA », « Virement » on every page that names them."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from permanence.core import clock
from permanence.payments.models import Payment
from permanence.shop.models import OrderStatus, PaymentMethod
from permanence.shop.orders import order_transition
from testkit.shop import make_order

pytestmark = pytest.mark.django_db

LABELS = {"carte": "Carte bancaire", "sepa": "Prélèvement SEPA", "virement": "Virement"}


def test_the_labels() -> None:
    assert dict(PaymentMethod.choices) == LABELS
    assert dict(Payment._meta.get_field("method").choices) == LABELS


def login(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_card_order_page_shows_no_transfer_reference(account: Any, client_user: Any,
                                                      supervisor: Any) -> None:
    order = make_order(account, client_user, payment_method="carte")
    Payment.objects.create(order=order, provider="stripe", method="carte", status="reussi",
                           amount_cents=order.total_ttc_cents, idempotency_key="k-card",
                           created_at=clock.now())
    staff = login(supervisor).get(reverse("orders:detail", args=[order.pk])).content.decode()
    assert order.transfer_reference not in staff
    assert "Référence de virement" not in staff
    assert "<td>Carte bancaire</td>" in staff  # the payments table, not the raw "carte"
    portal = login(client_user).get(
        reverse("portal:order_detail", args=[order.reference])).content.decode()
    assert "Carte bancaire" in portal
    assert order.transfer_reference not in portal


def test_a_transfer_order_shows_its_reference_and_the_label(account: Any, client_user: Any,
                                                           supervisor: Any) -> None:
    order = make_order(account, client_user, payment_method="virement")
    staff = login(supervisor).get(reverse("orders:detail", args=[order.pk])).content.decode()
    assert order.transfer_reference in staff
    assert "Virement bancaire" not in staff
    assert ">Virement<" in staff
    portal = login(client_user).get(
        reverse("portal:order_detail", args=[order.reference])).content.decode()
    assert order.transfer_reference in portal
    assert "Moyen de paiement : Virement" in portal


def test_the_board_and_the_emails_use_the_labels(account: Any, client_user: Any,
                                                 supervisor: Any,
                                                 django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        sepa = make_order(account, client_user, payment_method="sepa")
        order_transition(order=sepa, to=OrderStatus.PAID)
    board = login(supervisor).get(reverse("orders:board") + "?tab=toutes").content.decode()
    assert "Prélèvement SEPA" in board
    bodies = [m.body for m in mail.outbox if sepa.reference in m.subject]
    assert any("Moyen de paiement : Prélèvement SEPA" in b for b in bodies), bodies
    assert not any(sepa.transfer_reference in b for b in bodies)
