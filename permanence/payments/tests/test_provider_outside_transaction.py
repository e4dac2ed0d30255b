"""No network call to Stripe while a database transaction is open (ARCHITECTURE.md, "Side
effects"; issue 8): a pending ProviderCall is committed, Stripe is called, the answer is
recorded in a second short transaction.

- At the HTTP boundary (stripe's RequestsClient), checkout by card, a payment retry from the
  order page and a refund find no transaction open; stripe_client's guard refuses a call made
  inside one.
- On SQLite (the embedded default), a slow provider during a payment start does not hold the
  database-wide write lock: an inbound e-mail and a webhook are stored meanwhile, at once.
- A provider that fails leaves a clear, retryable ProviderCall and no Payment; the next try
  sends the same idempotency key (and gets the session Stripe may already have created). A
  checkout whose payment cannot start is undone, as when it was one transaction.

Real HTTP to the local Stripe stand-in; `transaction=True`: every commit is real, so "no
transaction open" means what it says, and threads use connections of their own.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

import pytest
import stripe
from django.core import mail
from django.db import OperationalError, connection, connections, transaction

from permanence.core.errors import DomainError
from permanence.payments import services, stripe_client
from permanence.payments.models import (
    Payment,
    ProviderCall,
    ProviderCallKind,
    ProviderCallStatus,
)
from permanence.payments.services import idempotency_key_for, payment_refund, payment_start
from permanence.payments.stripe_client import ProviderCallInTransaction
from testkit.payments import RunningStandIn, run_standin

pytestmark = pytest.mark.django_db(transaction=True)

OK_URL = "https://permanence.test/ok"
KO_URL = "https://permanence.test/ko"
SESSIONS = "/v1/checkout/sessions"
REFUNDS = "/v1/refunds"
PROVIDER_DELAY = 3.0  # seconds the slow stand-in takes to answer
MAIL_TO = "accueil@cabinet-martin.fr"
GOOD_SIRET = "73282932000074"


@pytest.fixture
def live_standin() -> Iterator[RunningStandIn]:
    with run_standin() as running:
        yield running
    stripe_client._client.cache_clear()


@pytest.fixture
def http_calls(monkeypatch: Any) -> list[dict[str, Any]]:
    """Every HTTP request the Stripe library sends, with the state of the calling thread's
    database connections at that moment (read directly, not through the guard)."""
    seen: list[dict[str, Any]] = []
    original = stripe.RequestsClient.request

    def request(self: Any, method: str, url: str, headers: Any, post_data: Any = None) -> Any:
        seen.append({
            "method": method, "path": "/" + url.split("/", 3)[3].split("?", maxsplit=1)[0],
            "in_atomic_block": any(c.in_atomic_block
                                   for c in connections.all(initialized_only=True)),
            "autocommit": all(c.get_autocommit() for c in connections.all(initialized_only=True)
                              if c.connection is not None),
            "thread": threading.current_thread().name})
        return original(self, method, url, headers, post_data)

    monkeypatch.setattr(stripe.RequestsClient, "request", request)
    return seen


def start(order: Any, method: str = "carte") -> Payment:
    return payment_start(order=order, method=method, success_url=OK_URL, cancel_url=KO_URL)


def requests_to(standin: RunningStandIn, path: str) -> list[dict[str, Any]]:
    return [r for r in standin.app.requests if r["path"] == path]


def assert_outside_transactions(calls: list[dict[str, Any]], path: str) -> None:
    made = [c for c in calls if c["path"] == path]
    assert made, f"no call to {path}"
    for call in made:
        assert not call["in_atomic_block"] and call["autocommit"], call


# --- (a) the provider is called with no transaction open --------------------------------------


def _cart_and_details(email: str = "jeanne@dupont.fr") -> tuple[Any, Any]:
    from permanence.shop.cart import cart_add
    from permanence.shop.checkout import CheckoutDetails
    from testkit.shop import make_offer, make_terms

    make_offer("essentiel")
    make_terms()
    cart = cart_add(cart=None, user=None, offer="essentiel")
    details = CheckoutDetails(customer_kind="professionnel", name="Jeanne Dupont", email=email,
                              address="3 rue des Lilas\n69003 Lyon",
                              legal_name="Cabinet Dupont SARL", siret=GOOD_SIRET,
                              password_hash="md5$x$y")
    return cart, details


def test_checkout_by_card_calls_stripe_with_no_transaction_open(
        live_standin: RunningStandIn, http_calls: list[dict[str, Any]]) -> None:
    from permanence.audit.models import AuditEvent
    from permanence.shop.checkout import checkout_place

    cart, details = _cart_and_details()
    mail.outbox.clear()
    result = checkout_place(cart=cart, user=None, details=details, payment_method="carte",
                            accept_terms=True, accept_privacy=True, base_url="http://testserver")
    assert_outside_transactions(http_calls, SESSIONS)
    payment = result.payment
    assert payment.checkout_url == f"{live_standin.url}/pay/{payment.provider_session_id}"
    assert payment.order == result.order and result.created_user
    call = ProviderCall.objects.get()
    assert (call.kind, call.status, call.payment) == (
        ProviderCallKind.CHECKOUT_SESSION, ProviderCallStatus.SUCCEEDED, payment)
    assert call.idempotency_key == payment.idempotency_key == idempotency_key_for(
        result.order, 1)
    assert call.response_id == payment.provider_session_id and call.tries == 1
    # Step (3) wrote what the single transaction used to: audit rows, confirmation e-mail.
    audited = set(AuditEvent.objects.filter(action="create").values_list("target_type",
                                                                          flat=True))
    assert {"accounts.clientaccount", "accounts.membership", "shop.order",
            "payments.payment"} <= audited
    assert [m.to for m in mail.outbox if result.order.reference in m.subject] == [
        ["jeanne@dupont.fr"]]
    cart.refresh_from_db()
    assert cart.checked_out_at is not None and cart.order == result.order


def test_payment_retry_from_the_order_page_calls_stripe_with_no_transaction_open(
        live_standin: RunningStandIn, http_calls: list[dict[str, Any]], account: Any,
        client_user: Any) -> None:
    from permanence.shop.checkout import order_retry_payment
    from permanence.shop.orders import order_transition
    from testkit.shop import make_order

    order = make_order(account, client_user, payment_method="virement")
    order_transition(order=order, to="echec")
    payment = order_retry_payment(order=order, actor=client_user, method="carte",
                                  base_url="http://testserver")
    assert_outside_transactions(http_calls, SESSIONS)
    order.refresh_from_db()
    assert (order.status, order.payment_method) == ("attente_paiement", "carte")
    assert payment.provider_session_id and payment.order == order


def _paid_card_payment(standin: RunningStandIn, order: Any) -> Payment:
    from django.test import Client

    payment = start(order)
    standin.app.pay(payment.provider_session_id)
    standin.deliver(Client())
    payment.refresh_from_db()
    assert payment.status == "reussi" and payment.provider_payment_id
    return payment


def test_refund_calls_stripe_with_no_transaction_open(
        live_standin: RunningStandIn, http_calls: list[dict[str, Any]], order: Any,
        billing: Any) -> None:
    from permanence.audit.models import AuditEvent

    payment = _paid_card_payment(live_standin, order)
    refund = payment_refund(actor=billing, payment=payment)
    assert_outside_transactions(http_calls, REFUNDS)
    assert refund["id"].startswith("re_")
    call = ProviderCall.objects.get(kind=ProviderCallKind.REFUND)
    assert (call.status, call.response_id, call.payment) == (
        ProviderCallStatus.SUCCEEDED, refund["id"], payment)
    assert call.idempotency_key == f"perm-refund-{payment.pk}-full"
    assert AuditEvent.objects.filter(target_type="payments.payment",
                                     changes__refund_id=refund["id"]).count() == 1
    # Asked again before Stripe's event arrives: the recorded answer, no second call.
    assert payment_refund(actor=billing, payment=payment)["id"] == refund["id"]
    assert len(requests_to(live_standin, REFUNDS)) == 1


def test_the_guard_refuses_a_stripe_call_inside_a_transaction(
        live_standin: RunningStandIn, order: Any) -> None:
    with transaction.atomic():
        with pytest.raises(ProviderCallInTransaction):
            stripe_client.checkout_session_create({"mode": "payment"}, idempotency_key="k")
        with pytest.raises(ProviderCallInTransaction):
            stripe_client.refund_create({"payment_intent": "pi_x"}, idempotency_key="r")
        # A caller wrapping payment_start in its own transaction: refused before any call.
        with pytest.raises(ProviderCallInTransaction):
            start(order)
    assert not live_standin.app.requests
    # payment_start checks first: nothing was written, not even the pending call.
    assert not Payment.objects.exists() and not ProviderCall.objects.exists()
    assert start(order).checkout_url  # with no transaction open: fine


@pytest.mark.django_db  # the `db` fixture: each test inside django.test.TestCase's atomic
def test_the_guard_ignores_the_test_wrapper_but_not_what_the_code_opens(
        live_standin: RunningStandIn, order: Any) -> None:
    assert connection.in_atomic_block  # pytest-django's per-test transaction
    assert stripe_client.open_transactions() == []
    with transaction.atomic():
        assert stripe_client.open_transactions() == ["default"]
        with pytest.raises(ProviderCallInTransaction):
            start(order)
    assert start(order).checkout_url


# --- (b) a slow provider does not block an inbound e-mail on SQLite ----------------------------


def _inbound_mail(account: Any) -> bytes:
    from permanence.accounts.models import ContactChannel

    ContactChannel.objects.get_or_create(account=account, kind="email", value=MAIL_TO)
    msg = EmailMessage()
    msg["From"] = "Jeanne Dupont <jeanne.dupont@example.org>"
    msg["To"] = MAIL_TO
    msg["Subject"] = "Demande de rendez-vous"
    msg["Message-ID"] = make_msgid(domain="example.org")
    msg.set_content("Bonjour, je souhaite un rendez-vous mardi.")
    return msg.as_bytes()


def _store_mail_and_webhook(raw: bytes) -> tuple[float, list[Any], Any]:
    """What the SMTP gateway and the webhook endpoint do, timed."""
    from permanence.channels_email.inbound import ingest
    from permanence.payments.events import event_receive

    began = time.monotonic()
    outcomes = ingest(raw, mail_from="jeanne.dupont@example.org", rcpt_tos=[MAIL_TO])
    received = event_receive(provider="stripe", payload={
        "id": f"evt_test_{time.time_ns()}", "type": "customer.created", "created": 1,
        "data": {"object": {"id": "cus_x"}}})
    return time.monotonic() - began, outcomes, received


def _start_in_thread(order: Any, outcome: dict[str, Any],
                     in_transaction: bool = False) -> threading.Thread:
    def run() -> None:
        try:
            if in_transaction:  # what the guard forbids: the control below
                with stripe_client.calls_in_transaction_allowed(), transaction.atomic():
                    outcome["payment"] = start(order)
            else:
                outcome["payment"] = start(order)
        except BaseException as exc:  # reported by the test
            outcome["error"] = exc
        finally:
            outcome["done_at"] = time.monotonic()
            connection.close()

    thread = threading.Thread(target=run, name="payment-start")
    thread.start()
    return thread


def _wait_for_provider_call(standin: RunningStandIn) -> None:
    deadline = time.monotonic() + 10
    while not requests_to(standin, SESSIONS):
        assert time.monotonic() < deadline, "the payment start never reached the provider"
        time.sleep(0.01)


@pytest.fixture
def sqlite_only() -> None:
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only: its database-wide write lock is what an open transaction "
                    "would hold during the provider call (PostgreSQL locks rows)")


def test_slow_provider_does_not_block_an_inbound_mail_on_sqlite(
        sqlite_only: None, live_standin: RunningStandIn, order: Any, account: Any) -> None:
    from permanence.inbox.models import Conversation

    raw = _inbound_mail(account)
    live_standin.control(f"delay-next?seconds={PROVIDER_DELAY}")
    outcome: dict[str, Any] = {}
    thread = _start_in_thread(order, outcome)
    try:
        _wait_for_provider_call(live_standin)  # the payment start now waits for Stripe
        elapsed, outcomes, received = _store_mail_and_webhook(raw)
        stored_at = time.monotonic()
    finally:
        thread.join(timeout=30)
    assert "error" not in outcome, outcome.get("error")
    # Typically 0.1-0.4 s (parsing, routing, SLA, the acknowledgement); the lock would
    # have made it wait for the whole call.
    assert elapsed < PROVIDER_DELAY / 2, f"storing the mail took {elapsed:.2f} s"
    assert stored_at < outcome["done_at"]  # stored while the provider call was running
    [stored] = outcomes
    assert stored.result == "opened"
    assert Conversation.objects.filter(pk=stored.conversation_id, account=account).exists()
    assert received.created
    assert outcome["payment"].checkout_url  # and the payment start completed normally


def test_control_a_provider_call_inside_a_transaction_would_block_it(
        sqlite_only: None, live_standin: RunningStandIn, order: Any, account: Any) -> None:
    """The same scenario with the call inside a transaction (the old code, which the guard now
    refuses): the mail cannot be stored while the call runs. The in-memory test database
    answers "database table is locked" at once; the file database waits (busy timeout, 20 s)
    — either way the mail is not stored in time. Proves the test above can fail."""
    raw = _inbound_mail(account)
    live_standin.control(f"delay-next?seconds={PROVIDER_DELAY}")
    outcome: dict[str, Any] = {}
    thread = _start_in_thread(order, outcome, in_transaction=True)
    try:
        _wait_for_provider_call(live_standin)
        try:
            elapsed, _outcomes, _received = _store_mail_and_webhook(raw)
            blocked = elapsed >= PROVIDER_DELAY * 0.9
        except OperationalError as exc:
            blocked = "locked" in str(exc)
        assert blocked
    finally:
        thread.join(timeout=30)
    assert "error" not in outcome, outcome.get("error")


# --- (c) a failing provider leaves a retryable row; the retry reuses the key -------------------


@pytest.fixture
def short_timeout(monkeypatch: Any) -> Iterator[None]:
    monkeypatch.setattr(stripe_client, "TIMEOUT_SECONDS", 0.3)
    stripe_client._client.cache_clear()
    yield
    stripe_client._client.cache_clear()


def test_unanswered_call_stays_retryable_and_the_retry_reuses_its_key(
        live_standin: RunningStandIn, short_timeout: None, order: Any) -> None:
    # Stripe creates the session but every answer (the first try and the library's 2
    # retries) comes after the client's time-out: the outcome is unknown to us.
    live_standin.control("delay-next?seconds=1&count=3")
    with pytest.raises(DomainError) as caught:
        start(order)
    assert caught.value.status == 503 and caught.value.code == "provider_unavailable"
    assert "injoignable" in str(caught.value.message)
    assert not Payment.objects.exists()
    call = ProviderCall.objects.get()
    assert call.status == ProviderCallStatus.UNANSWERED and call.tries == 1
    assert call.idempotency_key == idempotency_key_for(order, 1) and call.error
    assert call.order == order and call.payment is None
    assert len(live_standin.app.sessions) == 1  # created once, replayed to the retries
    order.refresh_from_db()
    assert order.status == "attente_paiement"

    payment = start(order)  # the buyer tries again: same key, Stripe's first session
    keys = {r["idempotency_key"] for r in requests_to(live_standin, SESSIONS)}
    assert keys == {call.idempotency_key}
    assert len(live_standin.app.sessions) == 1
    assert payment.provider_session_id == next(iter(live_standin.app.sessions))
    assert (payment.idempotency_key, payment.attempt) == (call.idempotency_key, 1)
    call.refresh_from_db()
    assert (call.status, call.tries, call.payment) == (ProviderCallStatus.SUCCEEDED, 2,
                                                       payment)


def test_call_left_pending_by_a_crash_is_sent_again_with_its_key(
        live_standin: RunningStandIn, order: Any) -> None:
    """The process died after committing the pending call, before (or while) calling."""
    pending = services._checkout_prepare(order=order, method="carte", success_url=OK_URL,
                                         cancel_url=KO_URL)
    assert isinstance(pending, ProviderCall) and pending.status == ProviderCallStatus.PENDING
    payment = start(order)
    [sent] = requests_to(live_standin, SESSIONS)
    assert sent["idempotency_key"] == pending.idempotency_key == payment.idempotency_key
    pending.refresh_from_db()
    assert (pending.status, pending.tries, pending.payment) == (
        ProviderCallStatus.SUCCEEDED, 2, payment)


def test_refused_call_is_closed_and_the_next_try_is_a_new_attempt(
        live_standin: RunningStandIn, order: Any) -> None:
    """An answered refusal: nothing was created, and Stripe keeps an answered request's
    result under its key — so the next try is attempt 2, with its own key."""
    live_standin.control("fail-next?status=400")
    with pytest.raises(DomainError) as caught:
        start(order)
    assert caught.value.status == 502
    refused = ProviderCall.objects.get()
    assert refused.status == ProviderCallStatus.REFUSED and "refusé" in refused.error
    payment = start(order)
    assert payment.attempt == 2 and payment.idempotency_key == idempotency_key_for(order, 2)
    assert ProviderCall.objects.get(payment=payment).attempt == 2


def test_failed_refund_is_retried_with_the_same_key(live_standin: RunningStandIn,
                                                    order: Any, billing: Any) -> None:
    payment = _paid_card_payment(live_standin, order)
    live_standin.control("fail-next?status=400")
    with pytest.raises(DomainError) as caught:
        payment_refund(actor=billing, payment=payment)
    assert caught.value.status == 502
    call = ProviderCall.objects.get(kind=ProviderCallKind.REFUND)
    assert call.status == ProviderCallStatus.REFUSED and not call.response_id
    refund = payment_refund(actor=billing, payment=payment)
    assert {r["idempotency_key"] for r in requests_to(live_standin, REFUNDS)} == {
        f"perm-refund-{payment.pk}-full"}
    call.refresh_from_db()
    assert (call.status, call.response_id, call.tries) == (ProviderCallStatus.SUCCEEDED,
                                                           refund["id"], 2)


def test_checkout_whose_payment_cannot_start_is_undone(live_standin: RunningStandIn) -> None:
    """As when the checkout was one transaction: no order, no new customer, the cart as it
    was, the reference given back, no e-mail, no audit row — only the refused call is kept,
    detached from the order. The buyer then checks out again."""
    from permanence.accounts.models import ClientAccount, Membership, User
    from permanence.audit.models import AuditEvent
    from permanence.shop.checkout import checkout_place
    from permanence.shop.models import Cart, Order

    cart, details = _cart_and_details()
    live_standin.control("fail-next?status=400")
    mail.outbox.clear()
    with pytest.raises(DomainError) as caught:
        checkout_place(cart=cart, user=None, details=details, payment_method="carte",
                       accept_terms=True, accept_privacy=True, base_url="http://testserver")
    assert caught.value.status == 502
    assert not Order.objects.exists() and not Payment.objects.exists()
    assert not User.objects.filter(email="jeanne@dupont.fr").exists()
    assert not ClientAccount.objects.exists() and not Membership.objects.exists()
    assert not AuditEvent.objects.exists() and not mail.outbox
    cart = Cart.objects.get(pk=cart.pk)
    assert (cart.checked_out_at, cart.order, cart.user) == (None, None, None)
    call = ProviderCall.objects.get()
    assert call.status == ProviderCallStatus.REFUSED and call.order is None

    result = checkout_place(cart=cart, user=None, details=details, payment_method="carte",
                            accept_terms=True, accept_privacy=True, base_url="http://testserver")
    assert result.order.reference == call.params["client_reference_id"]  # given back
    assert result.payment.checkout_url


def test_retry_from_the_order_page_that_cannot_start_changes_nothing(
        live_standin: RunningStandIn, account: Any, client_user: Any) -> None:
    from permanence.shop.checkout import order_retry_payment
    from permanence.shop.orders import order_transition
    from testkit.shop import make_order

    order = make_order(account, client_user, payment_method="virement")
    order_transition(order=order, to="echec")
    live_standin.control("fail-next?status=400")
    with pytest.raises(DomainError):
        order_retry_payment(order=order, actor=client_user, method="carte",
                            base_url="http://testserver")
    order.refresh_from_db()
    assert (order.status, order.payment_method) == ("echec", "virement")
    assert not Payment.objects.exists()
