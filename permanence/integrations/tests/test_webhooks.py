"""Outgoing webhooks, end to end against a real HTTP receiver on 127.0.0.1: emission in the
caller's transaction, signed delivery by the worker, retries with back-off, failure after
the last attempt, the delivery log, and the SSRF guard (at creation and at delivery)."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from permanence.core import clock
from permanence.core.errors import DomainError, Forbidden
from permanence.inbox import payloads
from permanence.inbox import services as inbox
from permanence.inbox.models import Conversation
from permanence.integrations import http_client as net
from permanence.integrations import services
from permanence.integrations.models import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from permanence.integrations.tasks import deliver_webhook

from .conftest import Receiver

pytestmark = pytest.mark.django_db

ALL_EVENTS = list(WebhookEvent.values)


def open_conversation(account: Any, subject: str = "Demande de rappel") -> Conversation:
    return inbox.conversation_open(inbox.Incoming(
        account=account, channel="email", subject=subject, body_text="Merci de me rappeler.",
        contact_name="Jean Dupont", contact_email="jean@exemple.fr", acknowledge=False))


def local_endpoint(receiver: Receiver, *, account: Any = None, events: list[str] | None = None,
                   **extra: Any) -> WebhookEndpoint:
    """An endpoint on the local receiver (allowed explicitly: it is a loopback address)."""
    from permanence.accounts.models import User

    admin = User.objects.filter(role="admin").first() or User.objects.create_user(
        "webhook-admin@test.fr", "x", role="admin")
    endpoint = services.webhook_endpoint_create(
        actor=admin, url=receiver.url(), events=events or ALL_EVENTS, account=account,
        allow_private=True, description="test")
    if extra:
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(**extra)
        endpoint.refresh_from_db()
    return endpoint


def verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """What a receiver does: recompute the signature from the timestamp and the raw body."""
    timestamp = headers["X-Permanence-Timestamp"]
    expected = hmac.new(secret.encode(), f"{timestamp}.{body.decode()}".encode(),
                        hashlib.sha256).hexdigest()
    return hmac.compare_digest(headers["X-Permanence-Signature"], f"sha256={expected}")


def drain(capture: Any, rounds: int = 20) -> int:
    """Run the database worker until no task is ready; returns the number of rounds."""
    for n in range(rounds):
        if not DBTaskResult.objects.ready().exists():
            return n
        with capture(execute=True):  # retries are enqueued when the attempt commits
            call_command("db_worker", "--batch", "--queue-name", "default",
                         "--no-startup-delay", "--no-reload", verbosity=0)
    raise AssertionError("the worker never ran out of tasks")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- The SSRF guard ------------------------------------------------------------------------------


@pytest.mark.parametrize(("address", "blocked"), [
    ("127.0.0.1", True), ("127.8.9.10", True), ("10.1.2.3", True), ("172.16.0.1", True),
    ("192.168.1.10", True), ("169.254.169.254", True), ("0.0.0.0", True),  # noqa: S104
    ("100.64.0.1", True), ("224.0.0.1", True), ("255.255.255.255", True), ("240.0.0.1", True),
    ("::1", True), ("fe80::1", True), ("fc00::1", True), ("::", True), ("ff02::1", True),
    ("::ffff:127.0.0.1", True), ("::ffff:10.0.0.1", True), ("2002:7f00:1::", True),
    ("93.184.215.14", False), ("8.8.8.8", False), ("2606:4700:4700::1111", False),
    ("pas-une-ip", True),
])
def test_address_is_blocked(address: str, blocked: bool) -> None:
    assert net.address_is_blocked(address) is blocked


@pytest.mark.parametrize("url", [
    "http://localhost/hook", "http://127.0.0.1:8000/", "http://10.0.0.5/x", "http://[::1]/",
    "http://169.254.169.254/latest/meta-data/", "http://0.0.0.0/", "http://[::ffff:127.0.0.1]/",
    "http://2130706433/", "http://0x7f000001/",  # 127.0.0.1 in disguise
])
def test_private_targets_are_refused_by_the_guard(url: str) -> None:
    with pytest.raises(net.UrlRefused):
        net.check_url(url, allow_private=False)


@pytest.mark.parametrize("url", ["ftp://exemple.fr/", "javascript:alert(1)", "http:///x",
                                 "exemple.fr/hook", "", "http://exemple.fr:99999/",
                                 "http://nom-inexistant.invalid/"])
def test_malformed_or_unresolvable_urls_are_refused(url: str) -> None:
    with pytest.raises(net.UrlRefused):
        net.check_url(url, allow_private=True)


def test_public_and_allowed_private_targets_pass() -> None:
    assert net.check_url("https://93.184.215.14/hook", allow_private=False) == ["93.184.215.14"]
    assert "127.0.0.1" in net.check_url("http://localhost:8080/", allow_private=True)


# --- Endpoints ---------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["http://localhost:8080/hook", "http://127.0.0.1/",
                                 "http://192.168.0.10/", "http://[::1]:9000/"])
def test_creating_an_endpoint_on_a_private_address_is_refused(admin_user: Any,
                                                              url: str) -> None:
    with pytest.raises(DomainError) as caught:
        services.webhook_endpoint_create(actor=admin_user, url=url, events=ALL_EVENTS)
    assert caught.value.status == 422
    assert "privée" in caught.value.fields["url"][0]
    assert not WebhookEndpoint.objects.exists()
    # Allowed explicitly by an administrator.
    endpoint = services.webhook_endpoint_create(actor=admin_user, url=url, events=ALL_EVENTS,
                                                allow_private=True)
    assert endpoint.allow_private


def test_create_endpoint(admin_user: Any, account: Any) -> None:
    from permanence.audit.models import AuditEvent

    endpoint = services.webhook_endpoint_create(
        actor=admin_user, url=" https://93.184.215.14/hook ", account=account,
        events=["message.created", "sla.breached", "message.created"])
    assert endpoint.url == "https://93.184.215.14/hook"
    assert endpoint.events == ["message.created", "sla.breached"]
    assert endpoint.secret.startswith("whsec_") and len(endpoint.secret) > 40
    assert endpoint.is_active and not endpoint.allow_private
    assert endpoint.created_by == admin_user
    other = services.webhook_endpoint_create(actor=admin_user, url="https://93.184.215.14/",
                                             events=ALL_EVENTS)
    assert other.secret != endpoint.secret and other.account is None
    event = AuditEvent.objects.get(action="create", target_type="integrations.webhookendpoint",
                                   target_id=str(endpoint.pk))
    assert endpoint.secret not in json.dumps(event.changes)


@pytest.mark.parametrize("events", [[], ["conversation.deleted"], ["message.created", "x"]])
def test_create_endpoint_needs_known_events(admin_user: Any, events: list[str]) -> None:
    with pytest.raises(DomainError) as caught:
        services.webhook_endpoint_create(actor=admin_user, url="https://93.184.215.14/",
                                         events=events)
    assert "events" in caught.value.fields


@pytest.mark.parametrize("role", ["supervisor", "agent", "billing", "client_user"])
def test_only_administrators_manage_endpoints(request: Any, admin_user: Any,
                                              role: str) -> None:
    user = request.getfixturevalue(role)
    with pytest.raises(Forbidden):
        services.webhook_endpoint_create(actor=user, url="https://93.184.215.14/",
                                         events=ALL_EVENTS)
    endpoint = services.webhook_endpoint_create(actor=admin_user, url="https://93.184.215.14/",
                                                events=ALL_EVENTS)
    with pytest.raises(Forbidden):
        services.webhook_endpoint_delete(actor=user, endpoint=endpoint)
    assert WebhookEndpoint.objects.count() == 1


# --- Emission and signed delivery --------------------------------------------------------------


def test_delivery_is_signed_and_logged(receiver: Receiver, account: Any,
                                       django_capture_on_commit_callbacks: Any) -> None:
    endpoint = local_endpoint(receiver, account=account)
    conversation = open_conversation(account)
    message = conversation.messages.get()
    before = int(timezone.now().timestamp())
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            [delivery] = payloads.webhooks_emit("conversation.created", conversation, message)
        assert receiver.requests == []  # nothing leaves before the commit
    [received] = receiver.requests
    headers, body = received.headers, received.body
    assert received.path == "/hook"
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Permanence-Event"] == "conversation.created"
    assert headers["X-Permanence-Delivery"] == str(delivery.event_id)
    assert before - 5 <= int(headers["X-Permanence-Timestamp"]) <= before + 60
    assert headers["X-Permanence-Signature"].startswith("sha256=")
    assert verify(endpoint.secret, headers, body)
    assert not verify("whsec_autre", headers, body)
    payload = json.loads(body)
    assert payload["id"] == str(delivery.event_id)
    assert payload["event"] == "conversation.created"
    assert payload["conversation"]["reference"] == conversation.reference
    assert payload["conversation"]["account"] == account.pk
    assert payload["conversation"]["contact"]["email"] == "jean@exemple.fr"
    assert payload["message"]["direction"] == "in"
    assert payload["message"]["body_text"] == "Merci de me rappeler."
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("sent", 1, 200)
    assert delivery.delivered_at is not None and delivery.last_error == ""
    [attempt] = WebhookAttempt.objects.filter(delivery=delivery)
    assert (attempt.number, attempt.status_code, attempt.error) == (1, 200, "")
    assert attempt.response_excerpt == "ok"


def test_payload_conversation_matches_the_api(receiver: Receiver, agent: Any, account: Any,
                                              api_client_for: Any,
                                              django_capture_on_commit_callbacks: Any) -> None:
    local_endpoint(receiver, account=account)
    conversation = open_conversation(account)
    inbox.conversation_update(actor=agent, conversation=conversation, data={}, tags=["vip"])
    with django_capture_on_commit_callbacks(execute=True):
        payloads.webhooks_emit_for("conversation.updated", conversation.pk,
                                         data={"changes": {"tags": [[], ["vip"]]}})
    sent = json.loads(receiver.requests[0].body)
    from_api = api_client_for(agent).get(f"/api/v1/conversations/{conversation.pk}").json()
    from_api.pop("messages")
    assert sent["conversation"] == from_api
    assert sent["data"] == {"changes": {"tags": [[], ["vip"]]}}
    assert "message" not in sent


def test_endpoints_are_matched_by_account_event_and_state(
        receiver: Receiver, account: Any, other_account: Any,
        django_capture_on_commit_callbacks: Any) -> None:
    mine = local_endpoint(receiver, account=account)
    global_ = local_endpoint(receiver)
    local_endpoint(receiver, account=other_account)
    local_endpoint(receiver, account=account, events=["sla.breached"])
    local_endpoint(receiver, account=account, is_active=False)
    conversation = open_conversation(account)
    with django_capture_on_commit_callbacks(execute=True):
        deliveries = payloads.webhooks_emit("conversation.created", conversation)
    assert {d.endpoint_id for d in deliveries} == {mine.pk, global_.pk}
    assert len({d.event_id for d in deliveries}) == 1  # one event, one id everywhere
    assert len(receiver.requests) == 2
    assert {r.headers["X-Permanence-Delivery"] for r in receiver.requests} == {
        str(deliveries[0].event_id)}


def test_notes_go_to_global_endpoints_only(receiver: Receiver, agent: Any, account: Any,
                                           django_capture_on_commit_callbacks: Any) -> None:
    local_endpoint(receiver, account=account)
    global_ = local_endpoint(receiver)
    conversation = open_conversation(account)
    note = inbox.conversation_add_note(actor=agent, conversation=conversation, body="Interne")
    with django_capture_on_commit_callbacks(execute=True):
        deliveries = payloads.webhooks_emit("message.created", conversation, note)
    assert [d.endpoint_id for d in deliveries] == [global_.pk]
    assert json.loads(receiver.requests[0].body)["message"]["direction"] == "note"


def test_nothing_is_emitted_without_endpoints(account: Any) -> None:
    assert payloads.webhooks_emit("conversation.created", open_conversation(account)) == []
    assert not WebhookDelivery.objects.exists()


def test_unknown_event_is_a_programming_error(account: Any) -> None:
    with pytest.raises(ValueError, match="unknown webhook event"):
        payloads.webhooks_emit("conversation.deleted", open_conversation(account))
    with pytest.raises(ValueError, match="unknown webhook event"):
        payloads.webhooks_emit_for("conversation.deleted", 1)


def test_emit_on_commit_waits_for_the_commit(receiver: Receiver, account: Any,
                                             django_capture_on_commit_callbacks: Any) -> None:
    """The delivery row is written in the caller's transaction (the outbox); only the
    worker's wake-up waits for the commit, and nothing is sent before it."""
    local_endpoint(receiver, account=account)
    conversation = open_conversation(account)
    message = conversation.messages.get()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        [delivery] = payloads.webhooks_emit_for("message.created", conversation.pk,
                                                message.pk)
    assert WebhookDelivery.objects.get(pk=delivery.pk).status == "pending"
    assert receiver.requests == [] and len(callbacks) == 1
    with django_capture_on_commit_callbacks(execute=True):
        callbacks[0]()
    delivery.refresh_from_db()
    assert (delivery.event, delivery.status) == ("message.created", "sent")
    assert json.loads(receiver.requests[0].body)["message"]["id"] == message.pk


def test_emit_in_a_rolled_back_transaction_sends_nothing(
        receiver: Receiver, account: Any, django_capture_on_commit_callbacks: Any) -> None:
    conversation = open_conversation(account)  # before the endpoint: it emits nothing
    local_endpoint(receiver, account=account)

    class Boom(Exception):
        pass

    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(Boom), transaction.atomic():
            payloads.webhooks_emit("conversation.created", conversation)
            payloads.webhooks_emit_for("conversation.updated", conversation.pk)
            raise Boom
    assert not WebhookDelivery.objects.exists()
    assert receiver.requests == []


def test_emit_on_commit_for_a_vanished_conversation_is_quiet(
        receiver: Receiver, django_capture_on_commit_callbacks: Any) -> None:
    local_endpoint(receiver)
    with django_capture_on_commit_callbacks(execute=True):
        payloads.webhooks_emit_for("conversation.updated", 999999)
    assert not WebhookDelivery.objects.exists()


# --- Retries (the database worker, as in production) -------------------------------------------


T0 = timezone.now().replace(microsecond=0) - timedelta(days=1)


def test_retries_with_back_off_then_success(receiver: Receiver, account: Any, db_tasks: None,
                                            django_capture_on_commit_callbacks: Any) -> None:
    endpoint = local_endpoint(receiver, account=account)
    receiver.statuses = [500, 503]
    conversation = open_conversation(account)
    with clock.frozen(T0):
        with django_capture_on_commit_callbacks(execute=True):
            [delivery] = payloads.webhooks_emit("conversation.created", conversation)
        assert receiver.requests == []  # queued for the worker, not sent inline
        drain(django_capture_on_commit_callbacks)
    assert len(receiver.requests) == 3
    assert {r.headers["X-Permanence-Delivery"] for r in receiver.requests} == {
        str(delivery.event_id)}
    assert all(verify(endpoint.secret, r.headers, r.body) for r in receiver.requests)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("sent", 3, 200)
    log = list(WebhookAttempt.objects.filter(delivery=delivery).values_list(
        "number", "status_code"))
    assert log == [(1, 500), (2, 503), (3, 200)]
    assert "HTTP 500" in WebhookAttempt.objects.get(delivery=delivery, number=1).error
    # Each retry was scheduled with exponential back-off (1 then 2 minutes).
    retries = DBTaskResult.objects.filter(task_path=deliver_webhook.module_path).order_by(
        "enqueued_at")
    assert [r.args_kwargs["args"] for r in retries] == [[delivery.pk, 1], [delivery.pk, 2],
                                                        [delivery.pk, 3]]
    assert [r.task.run_after for r in retries] == [None, T0 + timedelta(minutes=1),
                                                          T0 + timedelta(minutes=2)]
    assert all(r.status == "SUCCESSFUL" for r in retries)


def test_failure_after_the_last_attempt(receiver: Receiver, account: Any, db_tasks: None,
                                        django_capture_on_commit_callbacks: Any) -> None:
    local_endpoint(receiver, account=account)
    receiver.default_status = 500
    conversation = open_conversation(account)
    with clock.frozen(T0):
        with django_capture_on_commit_callbacks(execute=True):
            [delivery] = payloads.webhooks_emit("conversation.created", conversation)
        drain(django_capture_on_commit_callbacks)
    assert len(receiver.requests) == services.max_attempts() == 8
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("failed", 8, 500)
    assert delivery.next_attempt_at is None and delivery.delivered_at is None
    assert WebhookAttempt.objects.filter(delivery=delivery).count() == 8
    runs = [r.task.run_after for r in DBTaskResult.objects.filter(
        task_path=deliver_webhook.module_path).order_by("enqueued_at")]
    assert runs[0] is None  # the first attempt runs as soon as possible
    delays = [run_after - T0 for run_after in runs[1:] if run_after is not None]
    assert delays == [timedelta(minutes=2 ** n) for n in range(7)]  # 1, 2, 4 … 64 minutes


def test_connection_refused_and_timeouts_are_retried(receiver: Receiver, account: Any,
                                                     settings: Any, db_tasks: None) -> None:
    settings.WEBHOOK_TIMEOUT = 0.3
    dead = local_endpoint(receiver, account=account)
    WebhookEndpoint.objects.filter(pk=dead.pk).update(
        url=f"http://127.0.0.1:{free_port()}/hook")
    slow = local_endpoint(receiver, account=account)
    receiver.delay = 1.0
    conversation = open_conversation(account)
    deliveries = payloads.webhooks_emit("conversation.created", conversation)
    for delivery in deliveries:
        assert deliver_webhook.call(delivery.pk, 1) == "retry"
    by_endpoint = {d.endpoint_id: d for d in WebhookDelivery.objects.filter(
        pk__in=[d.pk for d in deliveries])}
    refused, timed_out = by_endpoint[dead.pk], by_endpoint[slow.pk]
    assert "ConnectionRefused" in refused.last_error
    assert "timed out" in timed_out.last_error.lower()
    for delivery in (refused, timed_out):
        assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
            "pending", 1, None)
        assert delivery.next_attempt_at is not None


def test_an_attempt_is_sent_once_even_if_enqueued_twice(receiver: Receiver,
                                                        account: Any) -> None:
    local_endpoint(receiver, account=account)
    [delivery] = payloads.webhooks_emit("conversation.created", open_conversation(account))
    assert deliver_webhook.call(delivery.pk, 1) == "sent"
    assert deliver_webhook.call(delivery.pk, 1) == "skipped"
    assert deliver_webhook.call(delivery.pk, 2) == "skipped"
    assert len(receiver.requests) == 1


def test_a_deactivated_endpoint_is_not_called(receiver: Receiver, account: Any) -> None:
    endpoint = local_endpoint(receiver, account=account)
    [delivery] = payloads.webhooks_emit("conversation.created", open_conversation(account))
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(is_active=False)
    assert deliver_webhook.call(delivery.pk, 1) == "failed"
    assert receiver.requests == []


# --- The SSRF guard at delivery time -------------------------------------------------------------


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1"])
def test_private_address_refused_at_delivery(receiver: Receiver, account: Any, host: str,
                                             django_capture_on_commit_callbacks: Any) -> None:
    """The name resolved to a loopback address when the request was due (e.g. DNS changed
    after the endpoint was saved): nothing is sent, the delivery fails at once."""
    endpoint = local_endpoint(receiver, account=account)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(url=receiver.url(host=host),
                                                          allow_private=False)
    # Opened outside the capture: the inbox's own webhook emissions are not run here.
    conversation = open_conversation(account)
    with django_capture_on_commit_callbacks(execute=True):
        [delivery] = payloads.webhooks_emit("conversation.created", conversation)
    assert receiver.requests == []
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("failed", 1, None)
    assert "privée" in delivery.last_error
    [attempt] = WebhookAttempt.objects.filter(delivery=delivery)
    assert attempt.status_code is None and "privée" in attempt.error
    # Allowed by an administrator: the same name is delivered to.
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(allow_private=True)
    conversation = open_conversation(account)
    with django_capture_on_commit_callbacks(execute=True):
        [again] = payloads.webhooks_emit("conversation.created", conversation)
    again.refresh_from_db()
    assert again.status == "sent" and len(receiver.requests) == 1


def test_dns_rebinding_cannot_reach_a_private_address(receiver: Receiver, account: Any,
                                                      monkeypatch: Any) -> None:
    """The connection goes to the address that was checked, never to a second lookup."""
    endpoint = local_endpoint(receiver, account=account)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        url=receiver.url(host="rebind.exemple"), allow_private=False)
    answers = iter([["93.184.215.14"], ["127.0.0.1"]])
    monkeypatch.setattr(net, "resolve", lambda host, port: next(answers))
    connected: list[tuple[str, int]] = []

    def fake_connect(address: tuple[str, int], *args: Any, **kwargs: Any) -> Any:
        connected.append(address)
        raise ConnectionRefusedError("refusé (test)")

    monkeypatch.setattr(net.socket, "create_connection", fake_connect)
    [delivery] = payloads.webhooks_emit("conversation.created", open_conversation(account))
    assert deliver_webhook.call(delivery.pk, 1) == "retry"
    assert connected == [("93.184.215.14", receiver.port)]
    assert receiver.requests == []


# --- Sweeper and manual redelivery ---------------------------------------------------------------


def test_sweeper_requeues_lost_deliveries_and_prunes_the_log(
        receiver: Receiver, account: Any, django_capture_on_commit_callbacks: Any) -> None:
    endpoint = local_endpoint(receiver, account=account)
    now = clock.now()
    payload = {"id": str(uuid.uuid4()), "event": "conversation.created"}

    def make(**fields: Any) -> WebhookDelivery:
        return WebhookDelivery.objects.create(endpoint=endpoint, event="conversation.created",
                                              payload=payload, **fields)

    lost = make(created_at=now - timedelta(hours=1), attempts=2,
                next_attempt_at=now - timedelta(minutes=30))
    scheduled = make(created_at=now, attempts=1, next_attempt_at=now + timedelta(minutes=1))
    exhausted = make(created_at=now - timedelta(hours=3), attempts=8,
                     next_attempt_at=now - timedelta(hours=1))
    old = make(created_at=now - timedelta(days=40), status="sent", attempts=1)
    with django_capture_on_commit_callbacks(execute=True):
        result = services.webhooks_sweep()
    assert result == {"requeued": 1, "pruned": 1}
    states = {d.pk: (d.status, d.attempts) for d in WebhookDelivery.objects.all()}
    assert states == {lost.pk: ("sent", 3), scheduled.pk: ("pending", 1),
                      exhausted.pk: ("failed", 8)}
    assert old.pk not in states
    assert len(receiver.requests) == 1


def test_redeliver_keeps_the_event_id(receiver: Receiver, admin_user: Any, account: Any,
                                      django_capture_on_commit_callbacks: Any) -> None:
    local_endpoint(receiver, account=account)
    receiver.statuses = [410]
    conversation = open_conversation(account)  # outside the capture: no inbox emissions run
    with django_capture_on_commit_callbacks(execute=True):
        [first] = payloads.webhooks_emit("conversation.created", conversation)
    first.refresh_from_db()
    assert first.status == "pending"  # retried later (immediate backend: by the sweeper)
    with django_capture_on_commit_callbacks(execute=True):
        copy = services.webhook_delivery_redeliver(actor=admin_user, delivery=first)
    copy.refresh_from_db()
    assert copy.pk != first.pk and copy.event_id == first.event_id
    assert copy.status == "sent"
    assert [r.headers["X-Permanence-Delivery"] for r in receiver.requests] == [
        str(first.event_id)] * 2


# --- HTTPS: the pinned connection still verifies the certificate against the host name ----------


@pytest.fixture
def tls_receiver(tmp_path: Any, monkeypatch: Any) -> Any:
    """An HTTPS receiver on 127.0.0.1 with a self-signed certificate for "localhost", trusted
    by the webhook client for the duration of the test."""
    import shutil
    import ssl
    import subprocess
    import threading
    from http.server import ThreadingHTTPServer

    from .conftest import _Handler

    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",  # noqa: S603
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert, key)
    server.socket = server_context.wrap_socket(server.socket, server_side=True)
    rec = Receiver(port=server.server_address[1])
    server.receiver = rec  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    trusted = ssl.create_default_context

    def trusting(*args: Any, **kwargs: Any) -> ssl.SSLContext:
        context = trusted(*args, **kwargs)
        context.load_verify_locations(cafile=str(cert))
        return context

    monkeypatch.setattr(net.ssl, "create_default_context", trusting)
    try:
        yield rec
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_https_delivery_verifies_the_certificate(tls_receiver: Receiver) -> None:
    headers = {"Content-Type": "application/json"}
    ok = net.post(f"https://localhost:{tls_receiver.port}/hook", b"{}", headers,
                  allow_private=True, timeout=5)
    assert ok.ok and ok.status_code == 200, ok
    assert tls_receiver.requests[0].headers["Host"] == f"localhost:{tls_receiver.port}"
    # Same server, but the name does not match the certificate: refused by TLS.
    mismatch = net.post(f"https://127.0.0.1:{tls_receiver.port}/hook", b"{}", headers,
                        allow_private=True, timeout=5)
    assert not mismatch.ok and "CERTIFICATE_VERIFY_FAILED" in mismatch.error
    assert len(tls_receiver.requests) == 1


def test_emit_on_commit_costs_one_query_without_endpoints(
        account: Any, django_capture_on_commit_callbacks: Any) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    conversation = open_conversation(account)
    with CaptureQueriesContext(connection) as ctx:
        with django_capture_on_commit_callbacks(execute=True):
            payloads.webhooks_emit_for("conversation.updated", conversation.pk)
    assert len(ctx.captured_queries) == 1


def test_extra_data_is_made_json(receiver: Receiver, account: Any,
                                 django_capture_on_commit_callbacks: Any) -> None:
    local_endpoint(receiver, account=account)
    conversation = open_conversation(account)
    at = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        payloads.webhooks_emit("sla.breached", conversation, data={
            "target": "first_response", "due_at": at, "tags": {"b", "a"}, "who": object})
    data = json.loads(receiver.requests[0].body)["data"]
    assert data["target"] == "first_response" and data["tags"] == ["a", "b"]
    assert data["due_at"].startswith(at.strftime("%Y-%m-%dT%H:%M:%S"))
    assert isinstance(data["who"], str)
