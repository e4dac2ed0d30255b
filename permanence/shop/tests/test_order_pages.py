"""The staff order page: what it shows, its actions through the services, permissions,
deadlines in business hours, "contacter le client" and the summary PDF."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from permanence.billing.models import Subscription
from permanence.core import clock
from permanence.inbox.models import Conversation, Direction, Status
from permanence.shop.models import CustomerKind, OrderStatus
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
def operator(db: Any) -> Any:
    from permanence.accounts.models import ClientAccount

    return ClientAccount.objects.create(name="Permanence", slug="operateur", is_operator=True,
                                        status="actif")


@pytest.fixture
def paid(account: Any, client_user: Any, django_capture_on_commit_callbacks: Any) -> Any:
    """Ordered and paid on Friday 20 November 2026 at 17:00 (Paris)."""
    with clock.frozen(paris(2026, 11, 20, 17, 0)), \
            django_capture_on_commit_callbacks(execute=True):
        order = make_order(account, client_user)
        order = order_transition(order=order, to=OrderStatus.PAID)
    mail.outbox.clear()
    return order


def post(client: Client, name: str, order: Any, data: dict[str, Any] | None = None,
         at: datetime | None = None) -> Any:
    with clock.frozen(at or paris(2026, 11, 23, 10, 0)):
        return client.post(reverse(f"orders:{name}", args=[order.pk]), data or {})


def test_detail_shows_lines_totals_billing_terms_history_and_deadline(
        supervisor: Any, paid: Any) -> None:
    with clock.frozen(paris(2026, 11, 23, 10, 0)):
        response = login(supervisor).get(reverse("orders:detail", args=[paid.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    line = paid.lines.get()
    assert line.label in html
    assert "149,00\xa0€" in html and "178,80\xa0€" in html  # HT and TTC
    assert "TVA 20 % sur 149,00\xa0€" in html and "29,80\xa0€" in html
    assert paid.billing_email in html and "1 rue de la Paix" in html
    assert "version 2026-11" in html and "/cgv/2026-11.pdf" in html
    assert "En attente de paiement → Payée" in html
    # Paid Friday 17:00; the default calendar (Mon–Fri 08:30–12:30, 14:00–18:00) leaves 1 h
    # on Friday, 8 h on Monday and on Tuesday, then 7 h on Wednesday → Wednesday 17:00.
    assert paid.validation_due_at == paris(2026, 11, 25, 17, 0)
    assert "25/11/2026 17:00" in html
    assert "dans 2 j 7 h" in html  # calendar time left on Monday 10:00


def test_consumer_order_shows_withdrawal_information(supervisor: Any, account: Any) -> None:
    order = make_order(account, customer_kind=CustomerKind.CONSUMER,
                       start_before_withdrawal_end=True)
    html = login(supervisor).get(reverse("orders:detail", args=[order.pk])).content.decode()
    assert "14 jours" in html
    assert "oui, demandé expressément par le client" in html


def test_validate_then_activate_through_the_ui(supervisor: Any, paid: Any,
                                               django_capture_on_commit_callbacks: Any) -> None:
    client = login(supervisor)
    mark_checked(paid)
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, "transition", paid, {"to": "validee", "confirm": "1",
                                                     "note": "Consignes reçues"})
    assert response.status_code == 302
    paid.refresh_from_db()
    assert paid.status == OrderStatus.VALIDATED and paid.validated_by == supervisor
    # Validated Monday 10:00 + 48 business hours = 6 days of 8 h → Tuesday 1 Dec. 10:00.
    assert paid.activation_due_at == paris(2026, 12, 1, 10, 0)
    with clock.frozen(paris(2026, 11, 23, 10, 5)):
        html = client.get(reverse("orders:detail", args=[paid.pk])).content.decode()
    assert "Consignes reçues" in html and "01/12/2026 10:00" in html
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, "transition", paid, {"to": "activee", "confirm": "1"})
    assert response.status_code == 302
    paid.refresh_from_db()
    assert paid.status == OrderStatus.ACTIVATED
    assert Subscription.objects.filter(order=paid).count() == 1
    assert any(paid.reference in m.subject and "actif" in m.subject for m in mail.outbox)
    html = client.get(reverse("orders:detail", args=[paid.pk])).content.decode()
    assert "Forfait Essentiel" in html and "Abonnements créés" in html


def test_transition_needs_confirmation_and_cancel_needs_a_reason(supervisor: Any,
                                                                 paid: Any) -> None:
    client = login(supervisor)
    response = post(client, "transition", paid, {"to": "validee"})
    assert response.status_code == 422
    assert "Cochez pour confirmer." in response.content.decode()
    response = post(client, "transition", paid, {"to": "annulee", "confirm": "1"})
    assert response.status_code == 422
    assert "Indiquez le motif de l&#x27;annulation." in response.content.decode()
    paid.refresh_from_db()
    assert paid.status == OrderStatus.PAID
    response = post(client, "transition", paid, {"to": "annulee", "confirm": "1",
                                                 "note": "Doublon"})
    assert response.status_code == 302
    paid.refresh_from_db()
    assert paid.status == OrderStatus.CANCELLED
    assert paid.history.last().note == "Doublon"


def test_impossible_transition_is_shown_as_a_message_not_a_500(supervisor: Any,
                                                               paid: Any) -> None:
    response = post(login(supervisor), "transition", paid, {"to": "activee", "confirm": "1"})
    assert response.status_code == 409
    assert "Impossible de passer la commande" in response.content.decode()
    paid.refresh_from_db()
    assert paid.status == OrderStatus.PAID


def test_check_and_information_actions(supervisor: Any, paid: Any) -> None:
    client = login(supervisor)
    assert post(client, "check", paid).status_code == 302
    paid.refresh_from_db()
    assert paid.checked_by == supervisor and paid.checked_at == paris(2026, 11, 23, 10, 0)
    assert post(client, "check", paid, at=paris(2026, 11, 23, 11, 0)).status_code == 302
    paid.refresh_from_db()
    assert paid.checked_at == paris(2026, 11, 23, 10, 0)  # stamped once
    assert post(client, "information", paid, {"complete": "0"}).status_code == 302
    paid.refresh_from_db()
    assert not paid.information_complete and paid.validation_due_at is None
    assert post(client, "information", paid, {"complete": "1"},
                at=paris(2026, 11, 24, 9, 0)).status_code == 302
    paid.refresh_from_db()
    # The clock restarts when the information is complete: Tuesday 09:00 + 24 h → Fri 09:00.
    assert paid.validation_due_at == paris(2026, 11, 27, 9, 0)
    assert post(client, "information", paid, {"complete": "peut-être"}).status_code == 422


@pytest.mark.parametrize("name", ["check", "information", "transition", "contact"])
def test_agents_billing_and_clients_cannot_process(name: str, agent: Any, billing: Any,
                                                   other_agent: Any, client_user: Any,
                                                   paid: Any) -> None:
    data = {"to": "validee", "confirm": "1", "complete": "0", "subject": "Bonjour",
            "body": "Message"}
    assert post(login(agent), name, paid, data).status_code == 403
    assert post(login(billing), name, paid, data).status_code == 403
    assert post(login(other_agent), name, paid, data).status_code == 404
    assert post(login(client_user), name, paid, data).status_code == 403
    paid.refresh_from_db()
    assert paid.status == OrderStatus.PAID and paid.checked_at is None
    assert paid.information_complete
    assert not Conversation.objects.filter(order=paid).exists()


def test_agent_of_another_account_gets_404_and_own_agent_reads(agent: Any, other_agent: Any,
                                                               paid: Any) -> None:
    url = reverse("orders:detail", args=[paid.pk])
    assert login(other_agent).get(url).status_code == 404
    response = login(agent).get(url)
    assert response.status_code == 200
    assert "Valider" not in response.content.decode().split("<aside>")[1].split("Client")[0]


def test_contact_the_client_opens_a_linked_conversation_and_emails_the_billing_address(
        supervisor: Any, paid: Any, operator: Any,
        django_capture_on_commit_callbacks: Any) -> None:
    client = login(supervisor)
    assert client.get(reverse("orders:contact", args=[paid.pk])).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, "contact", paid, {
            "subject": "Vos consignes", "body": "Pouvez-vous nous envoyer vos consignes ?"})
    assert response.status_code == 302
    conversation = Conversation.objects.get(order=paid)
    assert conversation.account == operator
    assert conversation.contact.email == paid.billing_email
    assert conversation.status == Status.PENDING_CUSTOMER
    assert paid.reference in conversation.subject
    directions = list(conversation.messages.values_list("direction", flat=True))
    assert Direction.IN not in directions and Direction.OUT in directions
    sent = [m for m in mail.outbox if any(paid.billing_email in to for to in m.to)]
    assert sent and "Pouvez-vous nous envoyer vos consignes ?" in sent[0].body
    html = client.get(reverse("orders:detail", args=[paid.pk])).content.decode()
    assert conversation.reference in html
    assert reverse("inbox:detail", args=[conversation.pk]) in html
    # …and the inbox's conversation page links back to the order.
    html = client.get(reverse("inbox:detail", args=[conversation.pk])).content.decode()
    assert reverse("orders:detail", args=[paid.pk]) in html and paid.reference in html


def test_contact_with_an_empty_message_is_a_field_error(supervisor: Any, paid: Any) -> None:
    response = post(login(supervisor), "contact", paid, {"subject": "", "body": ""})
    assert response.status_code == 422
    assert "Ce champ est obligatoire." in response.content.decode()
    assert not Conversation.objects.filter(order=paid).exists()


def test_summary_pdf_for_staff(agent: Any, paid: Any) -> None:
    response = login(agent).get(reverse("orders:summary_pdf", args=[paid.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")


def test_activation_panel_warns_about_the_consumer_withdrawal_period(
        supervisor: Any, account: Any) -> None:
    with clock.frozen(paris(2026, 11, 20, 10, 0)):
        order = make_order(account, customer_kind=CustomerKind.CONSUMER)
        order_transition(order=order, to=OrderStatus.PAID)
        mark_checked(order)
        order_transition(order=order, to=OrderStatus.VALIDATED, actor=supervisor)
        html = login(supervisor).get(reverse("orders:detail", args=[order.pk])).content.decode()
    assert "ne doit pas commencer avant la fin du délai de rétractation (04/12/2026 10:00)" in html
