"""Billing staff pages: payments list (filters, pending transfers, constant queries), transfer
matching, the provider event log with "retraiter", refunds; who may do what."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail

from permanence.payments.models import Payment, ProviderEvent
from permanence.payments.services import payment_start, transfer_match
from permanence.shop.models import OrderStatusChange

pytestmark = pytest.mark.django_db

LIST = "/app/boutique/paiements/"
MATCH = "/app/boutique/paiements/virements/rapprocher/"
EVENTS = "/app/boutique/paiements/evenements/"


def logged(client: Any, user: Any) -> Any:
    client.force_login(user)
    return client


def transfer(order: Any) -> Payment:
    return payment_start(order=order, method="virement", success_url="", cancel_url="")


def test_list_is_for_billing_admin_and_supervisor(client: Any, billing: Any, admin_user: Any,
                                                  supervisor: Any, agent: Any,
                                                  client_user: Any, order: Any) -> None:
    transfer(order)
    for user in (billing, admin_user, supervisor):
        response = logged(client, user).get(LIST)
        assert response.status_code == 200
        assert order.reference in response.content.decode()
    for user in (agent, client_user):
        assert logged(client, user).get(LIST).status_code == 403
    client.logout()
    assert client.get(LIST).status_code == 302


def test_supervisor_reads_but_cannot_act(client: Any, supervisor: Any, order: Any) -> None:
    transfer(order)
    logged(client, supervisor)
    page = client.get(LIST).content.decode()
    assert "Rapprocher un virement" not in page
    response = client.post(MATCH, {"reference": order.transfer_reference,
                                   "amount": "1", "bank_label": "x"})
    assert response.status_code == 403
    order.refresh_from_db()
    assert order.status == "attente_paiement"


def test_list_filters_and_constant_queries(client: Any, billing: Any, account: Any,
                                           client_user: Any,
                                           django_assert_max_num_queries: Any) -> None:
    from testkit.shop import make_order

    def add(n: int) -> None:
        for _ in range(n):
            transfer(make_order(account, client_user))

    add(2)
    logged(client, billing)
    with django_assert_max_num_queries(12) as few:
        assert client.get(LIST).status_code == 200
    add(20)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(LIST).status_code == 200
    page = client.get(LIST, {"status": "reussi"}).content.decode()
    assert "Aucun paiement ne correspond" in page
    assert client.get(LIST, {"provider": "virement", "method": "virement"}).status_code == 200
    assert client.get(LIST, {"status": "nimporte"}).status_code == 200  # ignored filter
    one = Payment.objects.order_by("pk").first()
    assert one is not None
    page = client.get(LIST, {"order": one.order.reference.lower()}).content.decode()
    assert page.count(f">{one.order.reference}</a>") == 2  # its row + the pending transfers


def test_transfer_match_wrong_amount_is_a_field_error(client: Any, billing: Any,
                                                      order: Any) -> None:
    payment = transfer(order)
    response = logged(client, billing).post(MATCH, {
        "reference": order.transfer_reference, "amount": "1,00", "bank_label": "VIR SEPA"})
    assert response.status_code == 422
    assert "Montant différent" in response.content.decode()
    order.refresh_from_db()
    payment.refresh_from_db()
    assert (order.status, payment.status) == ("attente_paiement", "en_attente")


def test_transfer_match_bad_input(client: Any, billing: Any, order: Any) -> None:
    logged(client, billing)
    response = client.post(MATCH, {"reference": "INCONNU", "amount": "10", "bank_label": ""})
    assert response.status_code == 422
    assert "Aucune commande" in response.content.decode()
    response = client.post(MATCH, {"reference": order.transfer_reference, "amount": "dix"})
    assert response.status_code == 422
    assert "Montant invalide" in response.content.decode()


def test_transfer_match_pays_the_order(client: Any, billing: Any, order: Any,
                                       django_capture_on_commit_callbacks: Any) -> None:
    payment = transfer(order)
    amount = f"{order.total_ttc_cents // 100},{order.total_ttc_cents % 100:02d}"
    assert logged(client, billing).get(MATCH).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(MATCH, {"reference": order.transfer_reference.lower(),
                                       "amount": amount, "bank_label": "VIR CABINET MARTIN"})
    assert response.status_code == 302
    payment.refresh_from_db()
    order.refresh_from_db()
    assert payment.status == "reussi" and payment.matched_by == billing
    assert payment.bank_label == "VIR CABINET MARTIN"
    assert order.status == "payee" and order.validation_due_at is not None
    change = OrderStatusChange.objects.get(order=order, to_status="payee")
    assert change.actor == billing
    assert any(order.reference in m.subject for m in mail.outbox)


def test_transfer_match_without_a_pending_payment_and_twice(billing: Any, order: Any) -> None:
    from permanence.core.errors import DomainError

    payment = transfer_match(actor=billing, order=order.reference,
                             amount_cents=order.total_ttc_cents, bank_label="VIR")
    assert payment.provider == "virement" and payment.status == "reussi"
    with pytest.raises(DomainError) as caught:
        transfer_match(actor=billing, order=order, amount_cents=order.total_ttc_cents)
    assert caught.value.status == 409


def test_event_log_and_retry(client: Any, billing: Any, supervisor: Any, standin: Any,
                             order: Any, monkeypatch: Any) -> None:
    from permanence.payments import events

    payment = payment_start(order=order, method="carte", success_url="https://x/ok",
                            cancel_url="https://x/ko")
    standin.app.pay(payment.provider_session_id)

    def crash(event: Any) -> Any:
        raise RuntimeError("base indisponible")

    monkeypatch.setattr(events, "_apply", crash)
    standin.deliver(client)
    monkeypatch.undo()
    event = ProviderEvent.objects.get()
    page = logged(client, supervisor).get(EVENTS, {"state": "error"}).content.decode()
    assert "base indisponible" in page and "Retraiter" not in page
    assert client.post(f"{EVENTS}{event.pk}/retraiter/").status_code == 403
    logged(client, billing)
    assert "Retraiter" in client.get(EVENTS).content.decode()
    response = client.post(f"{EVENTS}{event.pk}/retraiter/")
    assert response.status_code == 302
    event.refresh_from_db()
    order.refresh_from_db()
    assert event.processed_at is not None and order.status == "payee"
    page = client.get(EVENTS, {"state": "processed"}).content.decode()
    assert "payment succeeded" in page
    # Once processed, a retry is refused with a message, not a 500.
    response = client.post(f"{EVENTS}{event.pk}/retraiter/", follow=True)
    assert "déjà été traité" in response.content.decode()


def test_refund_goes_through_stripe_and_the_order_moves_on_the_event(
        client: Any, billing: Any, standin: Any, order: Any) -> None:
    payment = payment_start(order=order, method="carte", success_url="https://x/ok",
                            cancel_url="https://x/ko")
    standin.app.pay(payment.provider_session_id)
    standin.deliver(client)
    payment.refresh_from_db()
    assert payment.provider_payment_id.startswith("pi_")  # learnt from the completed event
    logged(client, billing)
    detail = client.get(f"{LIST}{payment.pk}/").content.decode()
    assert "Rembourser intégralement" in detail
    response = client.post(f"{LIST}{payment.pk}/rembourser/")
    assert response.status_code == 302
    [call] = [r for r in standin.app.requests if r["path"] == "/v1/refunds"]
    assert call["idempotency_key"] == f"perm-refund-{payment.pk}-full"
    assert call["params"]["payment_intent"] == payment.provider_payment_id
    order.refresh_from_db()
    assert order.status == "payee"  # until Stripe confirms
    standin.app.wait_idle()
    standin.deliver(client)
    order.refresh_from_db()
    payment.refresh_from_db()
    assert (payment.status, order.status) == ("rembourse", "remboursee")
    # Refunding again: refused with a message.
    response = client.post(f"{LIST}{payment.pk}/rembourser/", follow=True)
    assert "Seul un paiement réussi" in response.content.decode()


def test_refund_is_for_billing_and_admin_only(client: Any, supervisor: Any, agent: Any,
                                              order: Any) -> None:
    payment = transfer(order)
    for user in (supervisor, agent):
        assert logged(client, user).post(f"{LIST}{payment.pk}/rembourser/").status_code == 403
