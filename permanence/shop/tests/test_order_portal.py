"""Espace client: the orders of the client's account, the progress tracker, the documents,
and nobody else's orders."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse

from permanence.core import clock
from permanence.shop.models import OrderStatus
from permanence.shop.orders import order_transition
from testkit.shop import make_order, mark_checked

PARIS = ZoneInfo("Europe/Paris")

pytestmark = pytest.mark.django_db


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)


def login(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def validated(account: Any, client_user: Any, supervisor: Any) -> Any:
    with clock.frozen(paris(2026, 11, 20, 17, 0)):
        order = make_order(account, client_user)
        order_transition(order=order, to=OrderStatus.PAID)
    mark_checked(order)
    with clock.frozen(paris(2026, 11, 23, 10, 0)):
        return order_transition(order=order, to=OrderStatus.VALIDATED, actor=supervisor)


def test_orders_list_of_the_current_account(client_user: Any, validated: Any,
                                            other_account: Any) -> None:
    theirs = make_order(other_account)
    response = login(client_user).get(reverse("portal:orders"))
    assert response.status_code == 200
    html = response.content.decode()
    assert validated.reference in html and theirs.reference not in html
    assert "Validée" in html and "178,80\xa0€" in html
    assert "activation au plus tard le 01/12/2026 10:00" in html


def test_empty_state(client_user: Any, account: Any) -> None:
    html = login(client_user).get(reverse("portal:orders")).content.decode()
    assert "Aucune commande pour le moment." in html


def test_nav_links_to_the_orders(client_user: Any, account: Any) -> None:
    html = login(client_user).get(reverse("portal:home")).content.decode()
    assert f'href="{reverse("portal:orders")}"' in html


def test_detail_shows_the_progress_tracker_with_dates_and_deadlines(client_user: Any,
                                                                     validated: Any) -> None:
    response = login(client_user).get(reverse("portal:order_detail",
                                              args=[validated.reference]))
    assert response.status_code == 200
    html = response.content.decode()
    tracker = html[html.index('class="steps order-steps"'):html.index("</ol>")]
    assert '<li class="done">Payée' in tracker and "le 20/11/2026 17:00" in tracker
    assert '<li class="done">Validée' in tracker and "le 23/11/2026 10:00" in tracker
    assert '<li class="current">Activée' in tracker
    assert "au plus tard le 01/12/2026 10:00" in tracker
    assert reverse("portal:order_pdf", args=[validated.reference]) in html
    assert "/cgv/2026-11.pdf" in html


def test_summary_pdf(client_user: Any, validated: Any) -> None:
    response = login(client_user).get(reverse("portal:order_pdf", args=[validated.reference]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")


def test_someone_elses_order_is_a_404(outsider_client: Any, validated: Any) -> None:
    client = login(outsider_client)
    assert client.get(reverse("portal:order_detail",
                              args=[validated.reference])).status_code == 404
    assert client.get(reverse("portal:order_pdf", args=[validated.reference])).status_code == 404
    assert client.get(reverse("portal:order_detail", args=["CM-0000-000000"])).status_code == 404
    assert validated.reference not in client.get(reverse("portal:orders")).content.decode()


def test_staff_cannot_use_the_espace_client_pages(supervisor: Any, validated: Any) -> None:
    client = login(supervisor)
    assert client.get(reverse("portal:orders")).status_code == 403
    assert client.get(reverse("portal:order_detail",
                              args=[validated.reference])).status_code == 403
