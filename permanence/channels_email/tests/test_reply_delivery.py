"""Agents' replies are claimed before they are sent (a conditional UPDATE, as for webhooks):
two workers never send one reply twice, the SMTP conversation happens with no transaction
open, and a reply whose delivery was lost (wake-up, retry, a worker dying mid-send) is sent
by the sweeper."""

from __future__ import annotations

import smtplib
import threading
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.db import connection, connections

from permanence.core import clock
from permanence.core.scheduler import REGISTRY
from permanence.inbox import delivery
from permanence.inbox import services as inbox
from permanence.inbox.models import Conversation, Delivery, Message
from permanence.inbox.tasks import deliver_message, replies_sweep

RECORDING_BACKEND = "permanence.channels_email.tests.test_reply_delivery.RecordingBackend"


class RecordingBackend(EmailBackend):
    """The locmem backend, noting whether a transaction was open while "on the wire", and
    able to be slow, to fail, or to let something else happen during the send."""

    in_transaction: list[bool] = []
    delay = 0.0
    failures: list[Exception] = []
    during_send: Any = None

    def send_messages(self, messages: Any) -> int:
        RecordingBackend.in_transaction.append(connection.in_atomic_block)
        if RecordingBackend.delay:
            threading.Event().wait(RecordingBackend.delay)
        if RecordingBackend.during_send is not None:
            hook, RecordingBackend.during_send = RecordingBackend.during_send, None
            hook()
        if RecordingBackend.failures:
            raise RecordingBackend.failures.pop(0)
        return super().send_messages(messages)


@pytest.fixture(autouse=True)
def recording_backend(settings: Any) -> Any:
    settings.EMAIL_BACKEND = RECORDING_BACKEND
    RecordingBackend.in_transaction = []
    RecordingBackend.delay = 0.0
    RecordingBackend.failures = []
    RecordingBackend.during_send = None
    mail.outbox = []
    return RecordingBackend


def pending_reply(account: Any, agent: Any) -> Message:
    """A reply written (pending, the outbox row) whose worker was never woken."""
    conversation = inbox.conversation_open(inbox.Incoming(
        account=account, channel="email", subject="Demande de rendez-vous",
        body_text="Bonjour", contact_name="Jeanne Dupont",
        contact_email="jeanne.dupont@example.org", acknowledge=False))
    reply = inbox.conversation_reply(actor=agent, conversation=conversation,
                                     body="Mardi 10 h vous convient-il ?")
    assert (reply.delivery_status, reply.delivery_attempts) == (Delivery.PENDING, 0)
    return reply


def state(message: Message) -> tuple[str, int]:
    message.refresh_from_db()
    return message.delivery_status, message.delivery_attempts


@pytest.mark.django_db
def test_an_attempt_is_claimed_once(account: Any, agent: Any) -> None:
    reply = pending_reply(account, agent)
    claimed = delivery.message_delivery_claim(message_id=reply.pk, attempt=1)
    assert claimed is not None and claimed.pk == reply.pk
    # A second worker (or the same task delivered twice) finds nothing to claim.
    assert delivery.message_delivery_claim(message_id=reply.pk, attempt=1) is None
    assert deliver_message.call(reply.pk, 1) == "skipped"
    assert mail.outbox == []
    assert state(reply) == (Delivery.PENDING, 1)


@pytest.mark.django_db
def test_delivering_twice_sends_one_mail(account: Any, agent: Any) -> None:
    reply = pending_reply(account, agent)
    assert deliver_message.call(reply.pk, 1) == "sent"
    assert deliver_message.call(reply.pk, 1) == "already sent"
    assert deliver_message.call(reply.pk, 2) == "already sent"
    assert len(mail.outbox) == 1
    assert state(reply) == (Delivery.SENT, 1)


@pytest.mark.django_db
def test_a_second_worker_during_the_send_sends_nothing(account: Any, agent: Any) -> None:
    """The first worker is on the wire (the reply still `pending`): the second one, with the
    same task, finds the attempt claimed and sends nothing."""
    reply = pending_reply(account, agent)
    second: list[str] = []
    RecordingBackend.during_send = lambda: second.append(deliver_message.call(reply.pk, 1))
    assert deliver_message.call(reply.pk, 1) == "sent"
    assert second == ["skipped"]
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_send_one_reply_with_no_transaction_open(account: Any,
                                                                     agent: Any,
                                                                     settings: Any) -> None:
    # The wake-up goes to the database queue, where no worker runs: the two below race.
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend",
                                  "QUEUES": ["default", "email"]}}
    reply = pending_reply(account, agent)
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
                                  "QUEUES": ["default", "email"]}}
    assert state(reply) == (Delivery.PENDING, 0)
    RecordingBackend.delay = 0.3  # the first one is still sending when the second claims
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait(5)
            outcomes.append(deliver_message.call(reply.pk, 1))
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    # The loser finds the claim taken ("skipped") or, on a loaded machine where it comes
    # after the first send finished, the reply already sent: either way it sends nothing.
    assert len(outcomes) == 2
    assert outcomes.count("sent") == 1
    assert set(outcomes) - {"sent"} <= {"skipped", "already sent"}
    assert len(mail.outbox) == 1
    assert RecordingBackend.in_transaction == [False]  # sent once, no transaction open
    assert state(reply) == (Delivery.SENT, 1)


@pytest.mark.django_db(transaction=True)
def test_the_woken_worker_sends_after_the_commit_with_no_transaction_open(
        account: Any, agent: Any) -> None:
    """The real path: conversation_reply commits, its wake-up runs the (immediate) task."""
    reply = pending_reply(account, agent)
    assert state(reply) == (Delivery.SENT, 1)
    [sent] = mail.outbox
    assert sent.extra_headers["Message-ID"] == Message.objects.get(pk=reply.pk).message_id
    assert RecordingBackend.in_transaction == [False]


@pytest.mark.django_db
def test_a_failed_attempt_is_recorded_and_the_sweeper_retries_it(account: Any,
                                                                 agent: Any) -> None:
    reply = pending_reply(account, agent)
    RecordingBackend.failures = [smtplib.SMTPServerDisconnected("connexion perdue")]
    # The immediate backend cannot defer the retry: it is left to the sweeper.
    assert deliver_message.call(reply.pk, 1) == "retry"
    assert state(reply) == (Delivery.PENDING, 1)
    assert "SMTPServerDisconnected" in reply.delivery_error
    message_id = reply.message_id
    assert message_id  # stored before the send, through the inbox's service
    assert replies_sweep.call() == "requeued 0"  # the back-off (1 min) is not over
    with clock.frozen(reply.created_at + timedelta(minutes=1) + delivery.GRACE):
        assert replies_sweep.call() == "requeued 1"
    assert state(reply) == (Delivery.SENT, 2)
    [sent] = mail.outbox
    assert sent.extra_headers["Message-ID"] == message_id  # the same one, retried
    assert replies_sweep.call() == "requeued 0"


@pytest.mark.django_db
def test_a_lost_wake_up_is_found_by_the_sweeper(account: Any, agent: Any) -> None:
    reply = pending_reply(account, agent)  # its on_commit wake-up never ran
    with clock.frozen(reply.created_at + delivery.GRACE - timedelta(seconds=1)):
        assert replies_sweep.call() == "requeued 0"
    with clock.frozen(reply.created_at + delivery.GRACE):
        assert replies_sweep.call() == "requeued 1"
        assert replies_sweep.call() == "requeued 0"
    assert state(reply) == (Delivery.SENT, 1)
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_a_worker_dying_mid_send_is_retried_after_the_lease(account: Any,
                                                            agent: Any) -> None:
    reply = pending_reply(account, agent)
    # Claimed, then the process died: nothing recorded.
    assert delivery.message_delivery_claim(message_id=reply.pk, attempt=1) is not None
    # Perhaps it is still sending: the sweeper waits far longer than any SMTP timeout.
    with clock.frozen(reply.created_at + timedelta(minutes=1) + delivery.GRACE):
        assert replies_sweep.call() == "requeued 0"
    with clock.frozen(reply.created_at + timedelta(minutes=1) + delivery.LEASE):
        assert replies_sweep.call() == "requeued 1"
    assert state(reply) == (Delivery.SENT, 2)
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_out_of_attempts_the_reply_fails_for_good(account: Any, agent: Any,
                                                  settings: Any) -> None:
    settings.EMAIL_MAX_ATTEMPTS = 2
    reply = pending_reply(account, agent)
    RecordingBackend.failures = [OSError("refusé"), OSError("refusé encore")]
    assert deliver_message.call(reply.pk, 1) == "retry"
    assert deliver_message.call(reply.pk, 2) == "failed"
    assert state(reply) == (Delivery.FAILED, 2)
    assert "refusé encore" in reply.delivery_error
    assert deliver_message.call(reply.pk, 3) == "skipped"
    # A claim that died on its last attempt is given up by the sweeper.
    other = pending_reply(account, agent)
    delivery.message_delivery_claim(message_id=other.pk, attempt=1)
    Message.objects.filter(pk=other.pk).update(delivery_attempts=2)
    with clock.frozen(other.created_at + timedelta(days=1)):
        assert replies_sweep.call() == "requeued 0"
    assert state(other) == (Delivery.FAILED, 2)
    assert mail.outbox == []


@pytest.mark.django_db
def test_a_late_failure_does_not_undo_a_later_success(account: Any, agent: Any) -> None:
    reply = pending_reply(account, agent)
    first = delivery.message_delivery_claim(message_id=reply.pk, attempt=1)
    assert first is not None
    assert deliver_message.call(reply.pk, 2) == "sent"  # e.g. the sweeper's, after the lease
    assert not delivery.message_delivery_mark_failed(message=first, attempt=1,
                                                     error="timed out", final=False)
    assert state(reply) == (Delivery.SENT, 2)


@pytest.mark.django_db
def test_notes_and_inbound_messages_are_never_claimed(account: Any, agent: Any) -> None:
    reply = pending_reply(account, agent)
    note = inbox.conversation_add_note(actor=agent, conversation=reply.conversation,
                                       body="interne")
    Message.objects.filter(pk=note.pk).update(delivery_status=Delivery.PENDING)
    assert delivery.message_delivery_claim(message_id=note.pk, attempt=1) is None
    inbound = Conversation.objects.get(pk=reply.conversation_id).messages.filter(
        direction="in").get()
    assert deliver_message.call(inbound.pk, 1) == "skipped"


def test_the_sweeper_is_scheduled() -> None:
    job = REGISTRY["inbox.replies_sweep"]
    assert job.task is replies_sweep and job.every == timedelta(minutes=5)
