"""The payment state machine: PAYMENT_TRANSITIONS decides every move (webhooks, transfer
matching), payment_transition records each one in PaymentStatusChange, and a refused move
changes nothing. Events out of order still end in the right state (test_webhook.py), with a
history that shows only the moves that happened."""

from __future__ import annotations

from typing import Any

import pytest

from permanence.core.errors import DomainError
from permanence.payments.machine import PAYMENT_MACHINE, payment_transition
from permanence.payments.models import (
    PAYMENT_TRANSITIONS,
    Payment,
    PaymentStatus,
    PaymentStatusChange,
)
from permanence.payments.services import payment_start, transfer_match

pytestmark = pytest.mark.django_db

OK_URL = "https://permanence.test/ok"
KO_URL = "https://permanence.test/ko"


def start(order: Any, method: str = "carte") -> Payment:
    return payment_start(order=order, method=method, success_url=OK_URL, cancel_url=KO_URL)


def moves(payment: Payment) -> list[tuple[str, str]]:
    return list(PaymentStatusChange.objects.filter(payment=payment)
                .values_list("from_status", "to_status"))


def test_the_table_covers_every_status_and_refunded_is_final() -> None:
    assert set(PAYMENT_TRANSITIONS) == set(PaymentStatus.values)
    assert PAYMENT_TRANSITIONS[PaymentStatus.REFUNDED] == set()
    # Forward only: nothing goes back to pending, a success is only ever refunded — or
    # returned by the payer's bank (a SEPA debit disputed weeks later), which is final too.
    assert all(PaymentStatus.PENDING not in targets for targets in PAYMENT_TRANSITIONS.values())
    assert PAYMENT_TRANSITIONS[PaymentStatus.SUCCEEDED] == {PaymentStatus.REFUNDED,
                                                            PaymentStatus.RETURNED}
    assert PAYMENT_TRANSITIONS[PaymentStatus.RETURNED] == set()


def test_card_payment_webhook_writes_one_history_row(standin: Any, order: Any,
                                                     client: Any) -> None:
    payment = start(order)
    standin.app.pay(payment.provider_session_id)
    standin.deliver(client)
    [change] = PaymentStatusChange.objects.filter(payment=payment)
    assert (change.from_status, change.to_status) == ("en_attente", "reussi")
    assert change.note.startswith("checkout.session.completed (evt_")
    payment.refresh_from_db()
    assert payment.succeeded_at == change.at


def test_sepa_events_out_of_order_record_only_the_moves_made(standin: Any, sepa_order: Any,
                                                             client: Any) -> None:
    payment = start(sepa_order, "sepa")
    standin.app.mandate(payment.provider_session_id)
    standin.app.settle(payment.provider_session_id, "succeeded")
    standin.app.outbox.reverse()  # async_payment_succeeded arrives before completed
    standin.deliver(client)
    payment.refresh_from_db()
    assert payment.status == "reussi"
    assert moves(payment) == [("en_attente", "reussi")]  # the late "completed" moved nothing


def test_failure_then_success_on_the_same_page(standin: Any, order: Any, client: Any) -> None:
    payment = start(order)
    standin.app.decline(payment.provider_session_id)
    standin.deliver(client)
    standin.app.pay(payment.provider_session_id)
    standin.deliver(client)
    payment.refresh_from_db()
    assert payment.status == "reussi" and payment.failure_message == ""
    assert moves(payment) == [("en_attente", "echec"), ("echec", "reussi")]


def test_transfer_match_is_a_recorded_move_by_the_billing_user(billing: Any,
                                                                order: Any) -> None:
    pending = start(order, "virement")
    payment = transfer_match(actor=billing, order=order.transfer_reference,
                             amount_cents=order.total_ttc_cents, bank_label="VIR DUPONT")
    assert payment.pk == pending.pk and payment.status == "reussi"
    [change] = PaymentStatusChange.objects.filter(payment=payment)
    assert (change.from_status, change.to_status, change.actor) == (
        "en_attente", "reussi", billing)
    assert change.note == "VIR DUPONT"
    assert payment.succeeded_at == change.at


def test_a_move_the_table_refuses_is_a_409_and_changes_nothing(order: Any) -> None:
    payment = start(order, "virement")
    payment = payment_transition(payment=payment, to=PaymentStatus.REFUNDED)
    assert not PAYMENT_MACHINE.can(payment.status, PaymentStatus.SUCCEEDED)
    with pytest.raises(DomainError) as caught:
        payment_transition(payment=payment, to=PaymentStatus.SUCCEEDED)
    assert caught.value.status == 409 and caught.value.code == "invalid_transition"
    payment.refresh_from_db()
    assert payment.status == "rembourse" and payment.succeeded_at is None
    assert moves(payment) == [("en_attente", "rembourse")]


def test_same_status_is_a_no_op(order: Any) -> None:
    payment = start(order, "virement")
    again = payment_transition(payment=payment, to=PaymentStatus.PENDING)
    assert again.status == "en_attente" and not moves(payment)
