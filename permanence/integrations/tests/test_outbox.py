"""Webhooks are an outbox: the delivery rows are written in the transaction that changes the
data, so a crash right after the commit (before the worker is woken) loses nothing — the
sweeper finds the row and the worker delivers it, exactly once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django_tasks_db.models import DBTaskResult

from permanence.core import clock
from permanence.inbox import payloads
from permanence.inbox import services as inbox
from permanence.inbox.models import Conversation
from permanence.integrations import services
from permanence.integrations.models import WebhookAttempt, WebhookDelivery
from permanence.integrations.tasks import deliver_webhook

from .conftest import DB_TASKS, Receiver
from .test_webhooks import local_endpoint, open_conversation


class Crash(Exception):
    """The process dies right after COMMIT, before any after-commit callback ran."""


def crash() -> None:
    raise Crash


def open_then_crash(account: Any) -> Conversation:
    """conversation_open in a transaction that really commits, after which no on_commit
    callback runs: the first one (registered before anything else) raises, and Django drops
    the others — as a process killed between the commit and the wake-up would."""
    with pytest.raises(Crash), transaction.atomic():
        transaction.on_commit(crash)
        conversation = open_conversation(account)
    assert not connection.in_atomic_block
    return conversation


def run_worker() -> None:
    for _round in range(10):
        if not DBTaskResult.objects.ready().exists():
            return
        call_command("db_worker", "--batch", "--queue-name", "default",
                     "--no-startup-delay", "--no-reload", verbosity=0)
    raise AssertionError("the worker never ran out of tasks")


@pytest.mark.django_db(transaction=True)
def test_a_crash_between_commit_and_wake_up_loses_no_webhook(receiver: Receiver,
                                                              account: Any) -> None:
    endpoint = local_endpoint(receiver, account=account)
    conversation = open_then_crash(account)
    # Committed with its outbox row; nothing was sent, nothing was enqueued.
    assert Conversation.objects.filter(pk=conversation.pk).exists()
    [delivery] = WebhookDelivery.objects.all()
    assert (delivery.endpoint_id, delivery.event, delivery.status, delivery.attempts) == (
        endpoint.pk, "conversation.created", "pending", 0)
    assert delivery.payload["conversation"]["reference"] == conversation.reference
    assert receiver.requests == []
    # Not yet overdue: the sweeper leaves it to the wake-up it cannot know was lost.
    assert services.webhooks_sweep()["requeued"] == 0
    with clock.frozen(clock.now() + timedelta(minutes=6)):
        assert services.webhooks_sweep()["requeued"] == 1
        assert services.webhooks_sweep()["requeued"] == 0
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("sent", 1, 200)
    [received] = receiver.requests
    assert received.headers["X-Permanence-Delivery"] == str(delivery.event_id)
    # The lost wake-up turning up late after all changes nothing.
    assert deliver_webhook.call(delivery.pk, 1) == "skipped"
    assert len(receiver.requests) == 1
    assert WebhookAttempt.objects.filter(delivery=delivery).count() == 1


@pytest.mark.django_db(transaction=True)
def test_after_a_crash_the_scheduled_sweep_and_the_db_worker_deliver_once(
        receiver: Receiver, account: Any, settings: Any) -> None:
    """The same with the production pieces: the database task backend and its worker, and
    two sweeps (e.g. two scheduler machines) finding the same lost delivery."""
    settings.TASKS = DB_TASKS
    local_endpoint(receiver, account=account)
    open_then_crash(account)
    assert not DBTaskResult.objects.exists()  # the wake-up never happened
    with clock.frozen(clock.now() + timedelta(minutes=6)):
        assert services.webhooks_sweep()["requeued"] == 1
        assert services.webhooks_sweep()["requeued"] == 1  # still pending: enqueued again
        run_worker()
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("sent", 1)
    assert len(receiver.requests) == 1
    outcomes = sorted(r.return_value for r in DBTaskResult.objects.filter(
        task_path=deliver_webhook.module_path))
    assert outcomes == ["sent", "skipped"]


def test_rows_are_written_in_the_callers_transaction(
        receiver: Receiver, account: Any, django_capture_on_commit_callbacks: Any) -> None:
    """Inside the write's transaction (callbacks not run: as after a crash): the rows are
    there already; rolled back with the write, they are gone with it."""
    local_endpoint(receiver, account=account)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        conversation = open_conversation(account)
        assert WebhookDelivery.objects.filter(event="conversation.created").count() == 1
    assert callbacks and receiver.requests == []

    class Rollback(Exception):
        pass

    with pytest.raises(Rollback), transaction.atomic():
        inbox.conversation_reply(actor=_admin(), conversation=conversation, body="Noté.")
        assert WebhookDelivery.objects.count() == 2
        raise Rollback
    assert WebhookDelivery.objects.count() == 1
    # The sweeper delivers what the lost callbacks would have.
    with clock.frozen(clock.now() + timedelta(minutes=6)):
        assert services.webhooks_sweep()["requeued"] == 1
    assert len(receiver.requests) == 1


def _admin() -> Any:
    from permanence.accounts.models import User

    return User.objects.get(role="admin")


def test_a_failing_emission_never_undoes_the_write(receiver: Receiver, account: Any,
                                                   caplog: Any) -> None:
    local_endpoint(receiver, account=account)

    def broken() -> dict[str, Any]:
        raise RuntimeError("payload bug")

    with transaction.atomic():
        assert services.webhook_event_emit(event="conversation.updated",
                                           account_id=account.pk, payload=broken) == []
        conversation = open_conversation(account)
    assert Conversation.objects.filter(pk=conversation.pk).exists()
    assert list(WebhookDelivery.objects.values_list("event", flat=True)) == [
        "conversation.created"]
    assert "payload bug" in caplog.text


def test_a_payload_function_is_called_only_for_a_matching_endpoint(
        receiver: Receiver, account: Any, other_account: Any) -> None:
    local_endpoint(receiver, account=other_account)
    calls: list[int] = []

    def payload() -> dict[str, Any]:
        calls.append(1)
        return {"conversation": {"id": 1}}

    assert services.webhook_event_emit(event="conversation.updated", account_id=account.pk,
                                       payload=payload) == []
    assert calls == []
    [delivery] = services.webhook_event_emit(event="conversation.updated",
                                             account_id=other_account.pk, payload=payload)
    assert calls == [1]
    assert list(delivery.payload) == ["id", "event", "created_at", "conversation"]
    # The envelope is ours: a payload cannot override it.
    [other] = services.webhook_event_emit(event="conversation.updated",
                                          account_id=other_account.pk,
                                          payload={"event": "x", "id": "y", "extra": True})
    assert other.payload["event"] == "conversation.updated"
    assert other.payload["id"] == str(other.event_id) and other.payload["extra"] is True


def test_internal_events_go_to_global_endpoints_only(receiver: Receiver, account: Any) -> None:
    mine = local_endpoint(receiver, account=account)
    global_ = local_endpoint(receiver)
    deliveries = services.webhook_event_emit(event="message.created", account_id=account.pk,
                                             payload={}, internal=True)
    assert [d.endpoint_id for d in deliveries] == [global_.pk]
    deliveries = services.webhook_event_emit(event="message.created", account_id=account.pk,
                                             payload={})
    assert {d.endpoint_id for d in deliveries} == {mine.pk, global_.pk}


def test_a_redelivery_whose_wake_up_is_lost_is_swept_too(
        receiver: Receiver, admin_user: Any, account: Any,
        django_capture_on_commit_callbacks: Any) -> None:
    conversation = open_conversation(account)  # before the endpoint: no row of its own
    local_endpoint(receiver, account=account)
    [first] = payloads.webhooks_emit("conversation.created", conversation)
    assert deliver_webhook.call(first.pk, 1) == "sent"
    with django_capture_on_commit_callbacks(execute=False):
        copy = services.webhook_delivery_redeliver(actor=admin_user, delivery=first)
    assert copy.next_attempt_at is not None
    with clock.frozen(clock.now() + timedelta(minutes=6)):
        services.webhooks_sweep()
    copy.refresh_from_db()
    assert copy.status == "sent" and len(receiver.requests) == 2


def test_an_attempt_that_outlived_its_claim_does_not_overwrite_the_next(
        receiver: Receiver, account: Any) -> None:
    """Attempt 1 hangs past its lease; the sweeper hands the delivery to attempt 2, which
    succeeds. When attempt 1 finally records its failure, it changes nothing."""
    from permanence.integrations import http_client as net

    local_endpoint(receiver, account=account)
    [delivery] = payloads.webhooks_emit("conversation.created", open_conversation(account))
    assert WebhookDelivery.objects.filter(pk=delivery.pk, attempts=0).update(attempts=1)
    assert deliver_webhook.call(delivery.pk, 2) == "sent"
    late = services._record(delivery, 1, net.HttpResult(None, "timed out", 10_000, ""),
                            permanent=False)
    assert late == "superseded"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("sent", 2, "")
    assert len(receiver.requests) == 1
