"""payment_start against the local Stripe stand-in over real HTTP: the Checkout Session's
parameters, idempotency keys, double clicks, provider errors, bank transfer."""

from __future__ import annotations

import urllib.request
from typing import Any

import pytest
from django.db import transaction

from permanence.core.errors import DomainError
from permanence.payments.models import Payment
from permanence.payments.services import (
    idempotency_key_for,
    payment_start,
    transfer_instructions,
)
from permanence.payments.stripe_client import calls_in_transaction_allowed

pytestmark = pytest.mark.django_db

OK_URL = "https://permanence.test/ok"
KO_URL = "https://permanence.test/ko"


def start(order: Any, method: str = "carte") -> Payment:
    return payment_start(order=order, method=method, success_url=OK_URL, cancel_url=KO_URL)


def session_calls(standin: Any) -> list[dict[str, Any]]:
    return [r for r in standin.app.requests if r["path"] == "/v1/checkout/sessions"]


def test_card_checkout_session_parameters(standin: Any, order: Any) -> None:
    payment = start(order)
    [call] = session_calls(standin)
    params = call["params"]
    assert call["idempotency_key"] == payment.idempotency_key == idempotency_key_for(order, 1)
    assert payment.idempotency_key.startswith(f"perm-{order.reference}-")
    assert params["mode"] == "payment"
    assert params["payment_method_types"] == ["card"]
    assert params["customer_creation"] == "always"
    assert params["payment_intent_data"]["setup_future_usage"] == "off_session"
    assert params["client_reference_id"] == order.reference
    assert params["metadata"]["order_reference"] == order.reference
    assert params["metadata"]["order_id"] == str(order.pk)
    assert params["success_url"] == OK_URL and params["cancel_url"] == KO_URL
    total = sum(int(i["price_data"]["unit_amount"]) * int(i["quantity"])
                for i in params["line_items"])
    assert total == order.total_ttc_cents
    assert {i["price_data"]["currency"] for i in params["line_items"]} == {"eur"}
    session = standin.app.sessions[payment.provider_session_id]
    assert session["amount_total"] == order.total_ttc_cents
    assert payment.provider == "stripe" and payment.status == "en_attente"
    assert payment.amount_cents == order.total_ttc_cents
    assert payment.checkout_url == f"{standin.url}/pay/{payment.provider_session_id}"
    assert payment.provider_session_id.startswith("cs_test_")
    assert payment.provider_customer_id.startswith("cus_")


def test_line_items_absorb_rounding_so_the_total_is_exact(standin: Any, account: Any,
                                                          client_user: Any) -> None:
    from testkit.shop import make_offer, make_order

    offers = [make_offer(f"option-{i}", kind="option", monthly_price_cents=333 + i,
                         name=f"Option {i}") for i in range(3)]
    order = make_order(account, client_user, offers=offers)
    start(order)
    [call] = session_calls(standin)
    total = sum(int(i["price_data"]["unit_amount"]) for i in call["params"]["line_items"])
    assert total == order.total_ttc_cents


def test_sepa_checkout_uses_sepa_debit(standin: Any, sepa_order: Any) -> None:
    payment = start(sepa_order, "sepa")
    [call] = session_calls(standin)
    assert call["params"]["payment_method_types"] == ["sepa_debit"]
    assert call["params"]["payment_intent_data"]["setup_future_usage"] == "off_session"
    assert payment.method == "sepa"


def test_double_click_returns_the_same_payment_and_session(standin: Any, order: Any) -> None:
    first = start(order)
    second = start(order)
    assert second.pk == first.pk
    assert second.checkout_url == first.checkout_url
    assert len(session_calls(standin)) == 1
    assert Payment.objects.filter(order=order).count() == 1


def test_same_idempotency_key_after_a_rollback_gives_the_same_session(standin: Any,
                                                                      order: Any) -> None:
    """Our transaction dies after Stripe created the session: the next try sends the same key
    (same attempt number) and Stripe answers with the same session, not a second one.

    The transaction around the call is on purpose (a caller's rollback, simulated), so the
    guard against provider calls in a transaction is lifted for it, explicitly."""
    with calls_in_transaction_allowed(), pytest.raises(RuntimeError), transaction.atomic():
        lost = start(order)
        raise RuntimeError("crash before commit")
    assert not Payment.objects.exists()
    payment = start(order)
    calls = session_calls(standin)
    assert len(calls) == 2
    assert calls[0]["idempotency_key"] == calls[1]["idempotency_key"]
    assert payment.provider_session_id == lost.provider_session_id
    assert len(standin.app.sessions) == 1


def test_changing_method_starts_a_new_attempt(standin: Any, order: Any) -> None:
    card = start(order)
    sepa = start(order, "sepa")
    assert sepa.attempt == 2 and sepa.provider_session_id != card.provider_session_id


def test_provider_refusal_is_a_domain_error_and_writes_nothing(standin: Any,
                                                               order: Any) -> None:
    standin.control("fail-next?status=400")
    with pytest.raises(DomainError) as caught:
        start(order)
    assert caught.value.status == 502
    assert "prestataire de paiement" in str(caught.value.message)
    assert not Payment.objects.exists()
    order.refresh_from_db()
    assert order.status == "attente_paiement"


def test_provider_unreachable_is_a_503(settings: Any, order: Any) -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.STRIPE_API_BASE = f"http://127.0.0.1:{port}"
    settings.STRIPE_SECRET_KEY = "sk_test_unreachable"
    from permanence.payments import stripe_client

    stripe_client._client.cache_clear()
    with pytest.raises(DomainError) as caught:
        payment_start(order=order, method="carte", success_url=OK_URL, cancel_url=KO_URL)
    assert caught.value.status == 503
    assert not Payment.objects.exists()


def test_paid_order_cannot_be_paid_again(standin: Any, order: Any) -> None:
    from permanence.shop.orders import order_transition

    order_transition(order=order, to="payee")
    with pytest.raises(DomainError) as caught:
        start(order)
    assert caught.value.status == 409
    assert not session_calls(standin)


def test_unknown_method_is_a_field_error(standin: Any, order: Any) -> None:
    with pytest.raises(DomainError) as caught:
        start(order, "cheque")
    assert caught.value.status == 422 and "method" in caught.value.fields


def test_transfer_is_pending_without_provider_call(standin: Any, order: Any) -> None:
    from permanence.accounts.models import OperatorIdentity

    OperatorIdentity.objects.update_or_create(pk=1, defaults={
        "legal_name": "Permanence SAS", "iban": "FR7630006000011234567890189"})
    payment = start(order, "virement")
    assert payment.provider == "virement" and payment.status == "en_attente"
    assert payment.checkout_url == "" and not standin.app.requests
    assert start(order, "virement").pk == payment.pk  # double click
    info = transfer_instructions(order)
    assert info["iban"] == "FR7630006000011234567890189"
    assert info["beneficiary"] == "Permanence SAS"
    assert info["amount_cents"] == order.total_ttc_cents
    assert info["reference"] == order.transfer_reference


def test_hosted_page_is_labelled_test_mode_and_redirects(standin: Any, order: Any) -> None:
    payment = start(order)
    with urllib.request.urlopen(payment.checkout_url, timeout=10) as response:  # noqa: S310
        page = response.read().decode()
    assert "Mode test — aucun paiement réel" in page
    assert "Payer" in page and "Simuler un refus" in page

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    request = urllib.request.Request(payment.checkout_url, data=b"action=pay",  # noqa: S310
                                     method="POST")
    with pytest.raises(urllib.error.HTTPError) as caught:
        opener.open(request, timeout=10)
    assert caught.value.code == 303
    assert caught.value.headers["Location"] == OK_URL
    assert [e["type"] for e in standin.app.events] == ["checkout.session.completed"]


def test_sepa_hosted_page_offers_the_mandate(standin: Any, sepa_order: Any) -> None:
    payment = start(sepa_order, "sepa")
    with urllib.request.urlopen(payment.checkout_url, timeout=10) as response:  # noqa: S310
        page = response.read().decode()
    assert "Valider le mandat" in page and "Mode test" in page


def test_standin_refuses_a_reused_key_with_other_params(standin: Any) -> None:
    import stripe

    from permanence.payments import stripe_client

    params = {"mode": "payment", "success_url": OK_URL, "line_items": [
        {"quantity": 1, "price_data": {"currency": "eur", "unit_amount": 100,
                                       "product_data": {"name": "A"}}}]}
    first = stripe_client.checkout_session_create(params, idempotency_key="k1")
    again = stripe_client.checkout_session_create(params, idempotency_key="k1")
    assert first["id"] == again["id"]
    params["line_items"][0]["price_data"]["unit_amount"] = 200
    with pytest.raises(DomainError):
        stripe_client.checkout_session_create(params, idempotency_key="k1")
    retrieved = stripe_client.checkout_session_retrieve(first["id"])
    assert retrieved["object"] == "checkout.session" and retrieved["amount_total"] == 100
    assert isinstance(stripe.StripeClient, type)
