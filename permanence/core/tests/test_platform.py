"""Platform plumbing: /healthz, e-mail task retries, scheduler, worker heartbeat, management
commands, and the live websocket."""

from __future__ import annotations

import io
import json
import signal
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

import pytest
from asgiref.sync import async_to_sync
from asgiref.testing import ApplicationCommunicator
from channels.layers import get_channel_layer
from django.conf import settings
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.core.management import CommandError, call_command
from django.db import OperationalError, connections, transaction
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from conftest import PASSWORD
from permanence.accounts.models import (
    ApiToken,
    ClientAccount,
    ContactChannel,
    Membership,
    OperatorIdentity,
    User,
)
from permanence.calendars.models import BusinessCalendar
from permanence.core import clock
from permanence.core.mail import queue_email
from permanence.core.management.commands.worker import beat
from permanence.core.models import ScheduledJobRun, WorkerHeartbeat
from permanence.core.scheduler import REGISTRY, Job, claim
from permanence.core.tasks import record_scheduler_tick, send_email
from permanence.demo.management.commands.seed_demo import ACCOUNTS, DEMO_PASSWORD, STAFF

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend",
                        "QUEUES": ["default", "email"]}}


class FailingEmailBackend(BaseEmailBackend):
    """An SMTP server that is always down."""

    def send_messages(self, email_messages: Any) -> int:
        raise ConnectionRefusedError("SMTP injoignable")


FAILING_BACKEND = f"{__name__}.FailingEmailBackend"


@pytest.fixture
def db_tasks(settings: Any, db: Any) -> None:
    """Enqueued tasks are stored in the database (as in production) instead of run at once."""
    settings.TASKS = DB_TASKS


@pytest.fixture
def keep_signal_handlers() -> Iterator[None]:
    """The scheduler command installs SIGINT/SIGTERM handlers: give pytest its own back."""
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


# --- /healthz ---------------------------------------------------------------------------------

def healthz() -> tuple[int, dict[str, Any]]:
    response = Client().get("/healthz")
    assert response["Content-Type"] == "application/json"
    assert "no-cache" in response["Cache-Control"]
    return response.status_code, json.loads(response.content)


def test_healthz_without_worker(db: Any) -> None:
    status, body = healthz()
    assert status == 200
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["cache"] == "ok"
    assert body["version"] == settings.VERSION
    assert body["worker"] == {"heartbeat_age_seconds": None, "status": "missing"}


def test_healthz_worker_heartbeat_fresh_then_stale(db: Any) -> None:
    with clock.frozen(T0):
        beat("worker:test")
    # Another kind of heartbeat (the scheduler tick) does not count as a worker.
    WorkerHeartbeat.objects.create(name="scheduler-tick", kind="tick",
                                   beat_at=T0 + timedelta(hours=1))
    with clock.frozen(T0 + timedelta(seconds=30)):
        _status, body = healthz()
    assert body["worker"] == {"heartbeat_age_seconds": 30.0, "status": "ok"}
    stale_after = settings.WORKER_HEARTBEAT_STALE_AFTER
    with clock.frozen(T0 + timedelta(seconds=stale_after)):
        assert healthz()[1]["worker"]["status"] == "ok"
    with clock.frozen(T0 + timedelta(seconds=stale_after + 1)):
        status, body = healthz()
    assert status == 200  # a stale worker is reported, not a reason to pull the web node
    assert body["worker"] == {"heartbeat_age_seconds": float(stale_after + 1),
                              "status": "stale"}


def test_healthz_uses_the_most_recent_worker(db: Any) -> None:
    WorkerHeartbeat.objects.create(name="worker:old", beat_at=T0 - timedelta(hours=2))
    WorkerHeartbeat.objects.create(name="worker:new", beat_at=T0 - timedelta(seconds=5))
    with clock.frozen(T0):
        assert healthz()[1]["worker"] == {"heartbeat_age_seconds": 5.0, "status": "ok"}


def test_healthz_503_when_database_unreachable(db: Any) -> None:
    with mock.patch.object(connections["default"], "cursor",
                           side_effect=OperationalError("connexion refusée")):
        status, body = healthz()
    assert status == 503
    assert body["status"] == "error"
    assert body["database"] == "error: OperationalError"
    assert body["version"] == settings.VERSION


# --- E-mail task ------------------------------------------------------------------------------

PAYLOAD = {"to": ["client@exemple.fr"], "subject": "Votre message", "body": "Bonjour",
           "html": "<p>Bonjour</p>", "reply_to": ["support@permanence.test"]}


def queued_emails() -> list[DBTaskResult]:
    return list(DBTaskResult.objects.filter(task_path=send_email.module_path)
                .order_by("enqueued_at"))


def test_send_email_task_sends(db: Any) -> None:
    assert send_email.call(PAYLOAD, 1) == "sent"
    [message] = mail.outbox
    assert message.to == ["client@exemple.fr"]
    assert message.reply_to == ["support@permanence.test"]
    assert message.from_email == settings.DEFAULT_FROM_EMAIL
    assert message.alternatives[0][0] == "<p>Bonjour</p>"


def test_send_email_retries_later_with_next_attempt(settings: Any, db_tasks: None) -> None:
    settings.EMAIL_BACKEND = FAILING_BACKEND
    # django-tasks-db's ready() reads the real time (not our clock), so the project clock is
    # frozen at the real present: a fixed date would drift into the past as the calendar moves.
    start = timezone.now().replace(microsecond=0)
    with clock.frozen(start):
        assert send_email.call(PAYLOAD, 1) == "retry"
    [retry] = queued_emails()
    assert retry.queue_name == "email"
    assert retry.status == "READY"
    assert retry.args_kwargs == {"args": [PAYLOAD, 2], "kwargs": {}}
    assert retry.run_after == start + timedelta(minutes=1)
    # Not picked up by a worker before its time.
    assert not DBTaskResult.objects.ready().filter(pk=retry.pk).exists()

    with clock.frozen(start):
        assert send_email.call(PAYLOAD, 3) == "retry"
    latest = queued_emails()[-1]
    assert latest.args_kwargs["args"][1] == 4
    assert latest.run_after == start + timedelta(minutes=4)  # exponential back-off
    assert mail.outbox == []


def test_send_email_gives_up_at_max_attempts(settings: Any, db_tasks: None) -> None:
    settings.EMAIL_BACKEND = FAILING_BACKEND
    with pytest.raises(ConnectionRefusedError):
        send_email.call(PAYLOAD, settings.EMAIL_MAX_ATTEMPTS)
    assert queued_emails() == []


def test_failed_email_is_retried_by_the_worker(settings: Any, db_tasks: None) -> None:
    settings.EMAIL_BACKEND = FAILING_BACKEND
    send_email.enqueue(PAYLOAD, 1)
    call_command("db_worker", "--batch", "--queue-name", "email", "--no-startup-delay",
                 "--no-reload", verbosity=0)
    first, retry = queued_emails()
    assert first.status == "SUCCESSFUL" and first.return_value == "retry"
    assert retry.status == "READY"
    assert retry.args_kwargs["args"][1] == 2
    assert retry.run_after > first.finished_at


def test_queue_email_sends_only_after_commit(db: Any,
                                             django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        queue_email(to=["a@exemple.fr"], subject="Sujet", body="Corps")
    assert mail.outbox == []
    assert len(callbacks) == 1
    callbacks[0]()
    assert [(m.to, m.subject, m.body) for m in mail.outbox] == [
        (["a@exemple.fr"], "Sujet", "Corps")]


def test_queue_email_in_rolled_back_transaction_is_never_sent(
        db: Any, django_capture_on_commit_callbacks: Any) -> None:
    class Boom(Exception):
        pass

    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(Boom), transaction.atomic():
            queue_email(to=["a@exemple.fr"], subject="Annulé", body="Corps")
            raise Boom
        queue_email(to=["b@exemple.fr"], subject="Validé", body="Corps")
    assert [m.subject for m in mail.outbox] == ["Validé"]


# --- Scheduler --------------------------------------------------------------------------------

def test_scheduler_claim_once_per_period(db: Any) -> None:
    job = Job("test.every_minute", timedelta(minutes=1), record_scheduler_tick)
    other = Job("test.other", timedelta(minutes=1), record_scheduler_tick)
    with clock.frozen(T0):
        assert claim(job) is True
        assert claim(job) is False
        assert claim(other) is True  # jobs are claimed independently
    with clock.frozen(T0 + timedelta(seconds=59)):
        assert claim(job) is False
    with clock.frozen(T0 + timedelta(minutes=1)):
        assert claim(job) is True
        assert claim(job) is False
    assert ScheduledJobRun.objects.get(job=job.name).last_run_at == T0 + timedelta(minutes=1)


def test_scheduler_command_once_enqueues_the_tick(db_tasks: None,
                                                  keep_signal_handlers: None) -> None:
    assert "core.scheduler_tick" in REGISTRY
    out = io.StringIO()
    with clock.frozen(T0):
        call_command("scheduler", "--once", stdout=out)
    assert "enqueued core.scheduler_tick" in out.getvalue()
    [queued] = DBTaskResult.objects.filter(task_path=record_scheduler_tick.module_path)
    assert queued.status == "READY"
    # A second pass within the minute enqueues nothing more.
    out = io.StringIO()
    with clock.frozen(T0 + timedelta(seconds=10)):
        call_command("scheduler", "--once", stdout=out)
    assert "enqueued" not in out.getvalue()
    assert DBTaskResult.objects.filter(task_path=record_scheduler_tick.module_path).count() == 1


def test_scheduler_tick_records_and_prunes_heartbeats(db: Any) -> None:
    WorkerHeartbeat.objects.create(name="worker:gone", beat_at=T0 - timedelta(days=2))
    WorkerHeartbeat.objects.create(name="worker:alive", beat_at=T0 - timedelta(minutes=1))
    with clock.frozen(T0):
        assert record_scheduler_tick.call() == "ok"
    assert WorkerHeartbeat.objects.get(name="scheduler-tick").beat_at == T0
    assert set(WorkerHeartbeat.objects.values_list("name", flat=True)) == {
        "scheduler-tick", "worker:alive"}


# --- Worker heartbeat -------------------------------------------------------------------------

def test_worker_heartbeat_writes_and_refreshes_one_row(db: Any) -> None:
    with clock.frozen(T0):
        beat("worker:hote:abcd1234")
    with clock.frozen(T0 + timedelta(seconds=15)):
        beat("worker:hote:abcd1234")
    [row] = WorkerHeartbeat.objects.all()
    assert (row.name, row.kind, row.beat_at) == ("worker:hote:abcd1234", "worker",
                                                 T0 + timedelta(seconds=15))


# --- Management commands ----------------------------------------------------------------------

def test_api_token_command_prints_a_working_token(agent: User) -> None:
    out = io.StringIO()
    call_command("api_token", "AGENT@test.fr", "--name", "Standard", stdout=out)
    raw = out.getvalue().strip()
    assert ApiToken.objects.get(user=agent).name == "Standard"
    response = Client(HTTP_AUTHORIZATION=f"Bearer {raw}").get("/api/v1/me")
    assert response.status_code == 200
    assert response.json()["email"] == "agent@test.fr"
    assert Client(HTTP_AUTHORIZATION="Bearer pmt_faux").get("/api/v1/me").status_code == 401


def test_api_token_command_unknown_or_inactive_user(agent: User) -> None:
    with pytest.raises(CommandError):
        call_command("api_token", "personne@test.fr", stdout=io.StringIO())
    agent.is_active = False
    agent.save()
    with pytest.raises(CommandError):
        call_command("api_token", agent.email, stdout=io.StringIO())
    assert not ApiToken.objects.exists()


def demo_counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in (
        User, ClientAccount, ContactChannel, Membership, OperatorIdentity, BusinessCalendar)}


def test_seed_demo_is_idempotent_and_logins_work(db: Any) -> None:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    first = demo_counts()
    assert first["User"] == len(STAFF) + len(ACCOUNTS)
    assert first["ClientAccount"] == len(ACCOUNTS) + 1  # and the operator's own
    call_command("seed_demo", stdout=io.StringIO())
    assert demo_counts() == first
    printed = out.getvalue()
    for login in ("admin", "superviseur", "agent", "compta", "cabinet-medical", "avocats"):
        assert f"{login}@permanence.test" in printed

    for email, landing in (("admin@permanence.test", "/app/"),
                           ("cabinet-medical@permanence.test", "/espace/")):
        response = Client().post("/connexion/", {"username": email, "password": DEMO_PASSWORD},
                                 follow=True)
        assert response.redirect_chain[-1][0] == landing, email
    client = Client()
    client.post("/connexion/", {"username": "cabinet-medical@permanence.test",
                                "password": DEMO_PASSWORD})
    assert "Cabinet médical du Dr Martin" in client.get("/espace/").content.decode()


# --- Live websocket ---------------------------------------------------------------------------

class LiveSocket(ApplicationCommunicator):
    """A WebSocket client speaking ASGI to the whole `permanence.asgi.application` stack (origin
    check, session auth, routing, consumer): the few helpers of channels' WebsocketCommunicator,
    whose module cannot be imported without daphne."""

    def __init__(self, headers: list[tuple[bytes, bytes]], origin: bytes = b"http://localhost"):
        from permanence.asgi import application

        super().__init__(application, {
            "type": "websocket", "path": "/ws/live/", "query_string": b"", "subprotocols": [],
            "headers": [(b"host", b"localhost"), (b"origin", origin), *headers],
        })

    async def connect(self) -> tuple[bool, Any]:
        await self.send_input({"type": "websocket.connect"})
        response = await self.receive_output(timeout=2)
        if response["type"] == "websocket.close":
            return False, response.get("code", 1000)
        assert response["type"] == "websocket.accept", response
        return True, None

    async def send_json(self, data: Any) -> None:
        await self.send_input({"type": "websocket.receive", "text": json.dumps(data)})

    async def receive_json(self) -> Any:
        response = await self.receive_output(timeout=2)
        assert response["type"] == "websocket.send", response
        return json.loads(response["text"])

    async def disconnect(self) -> None:
        await self.send_input({"type": "websocket.disconnect", "code": 1000})
        await self.wait(timeout=2)


def session_cookie(user: User) -> bytes:
    client = Client()
    client.force_login(user)
    name = settings.SESSION_COOKIE_NAME
    return f"{name}={client.cookies[name].value}".encode()


def try_connect(headers: list[tuple[bytes, bytes]], **kwargs: Any) -> tuple[bool, Any]:
    async def scenario() -> tuple[bool, Any]:
        socket = LiveSocket(headers, **kwargs)
        result = await socket.connect()
        await socket.disconnect()
        return result

    return async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True)
def test_websocket_rejects_anonymous() -> None:
    assert try_connect([]) == (False, 4401)


@pytest.mark.django_db(transaction=True)
def test_websocket_rejects_foreign_origin(make_user: Any) -> None:
    cookie = session_cookie(make_user("ws@test.fr", "agent"))
    assert try_connect([(b"cookie", cookie)])[0] is True
    assert try_connect([(b"cookie", cookie)], origin=b"https://evil.example")[0] is False


@pytest.mark.django_db(transaction=True)
def test_websocket_authenticated_hello_ping_and_notify(make_user: Any) -> None:
    user = make_user("ws@test.fr", "agent")
    other = make_user("ws2@test.fr", "agent")
    cookie = session_cookie(user)

    async def scenario() -> dict[str, Any]:
        socket = LiveSocket([(b"cookie", cookie)])
        connected, _ = await socket.connect()
        assert connected
        seen: dict[str, Any] = {"hello": await socket.receive_json()}
        await socket.send_json({"type": "ping"})
        seen["pong"] = await socket.receive_json()
        layer = get_channel_layer()
        # Somebody else's notification never reaches this socket…
        await layer.group_send(f"user-{other.pk}", {"type": "notify", "payload": {"n": 0}})
        seen["nothing"] = await socket.receive_nothing(timeout=0.2)
        # …its own does.
        await layer.group_send(f"user-{user.pk}", {
            "type": "notify", "payload": {"title": "Nouveau message", "n": 1}})
        seen["notification"] = await socket.receive_json()
        await socket.disconnect()
        return seen

    seen = async_to_sync(scenario)()
    assert seen["hello"] == {"type": "hello", "user": "ws@test.fr"}
    assert seen["pong"] == {"type": "pong"}
    assert seen["nothing"] is True
    assert seen["notification"] == {"type": "notification",
                                    "payload": {"title": "Nouveau message", "n": 1}}


@pytest.mark.django_db(transaction=True)
def test_websocket_session_ends_with_logout(make_user: Any) -> None:
    user = make_user("ws@test.fr", "agent")
    client = Client()
    client.post("/connexion/", {"username": user.email, "password": PASSWORD})
    name = settings.SESSION_COOKIE_NAME
    cookie = f"{name}={client.cookies[name].value}".encode()
    assert try_connect([(b"cookie", cookie)])[0] is True
    client.post("/deconnexion/")
    assert try_connect([(b"cookie", cookie)]) == (False, 4401)
