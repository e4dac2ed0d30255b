"""Shared fixtures: one user per role, accounts with assignments, API clients."""

from __future__ import annotations

import os
from typing import Any

import pytest

# `make test-future` runs the fast suite with the clock a year ahead, so a test that mixes a
# fixed date with the real time (a library's or the database's) fails the day it is written,
# not the day the calendar passes that date. time-machine moves every Python clock (datetime,
# time.time) but not the monotonic one, so timeouts and sleeps keep working (Debian's
# libfaketime 0.9.10 was tried first: with it Python 3.11's time.sleep fails with EINVAL or
# Event.wait never returns).
_SHIFT_DAYS = os.environ.get("PERMANENCE_TEST_CLOCK_SHIFT_DAYS")
if _SHIFT_DAYS:
    import time

    import time_machine

    # A timestamp, not an aware datetime: time-machine would also set TZ to the datetime's
    # zone, and Django's TIME_ZONE must stay the process's local zone.
    time_machine.travel(time.time() + int(_SHIFT_DAYS) * 86400, tick=True).start()

PASSWORD = "Un-mot-de-passe-solide-42"  # noqa: S105 (test-only)


@pytest.fixture(scope="session", autouse=True)
def _close_database_pools(django_db_setup: Any, django_db_blocker: Any) -> Any:
    """On PostgreSQL the connections come from a pool (DB_POOL), which keeps them open: at
    the end of the session it is closed, else the test database could not be dropped."""
    yield
    from django.db import connections

    with django_db_blocker.unblock():
        connections.close_all()
        for connection in connections.all():
            close_pool = getattr(connection, "close_pool", None)
            if close_pool is not None:
                close_pool()


@pytest.fixture(autouse=True)
def _test_settings(settings: Any, tmp_path: Any) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
                                  "QUEUES": ["default", "email"]}}
    settings.MEDIA_ROOT = str(tmp_path / "media")
    # Call events processed in the request: the pump's thread would not see the data of the
    # test's transaction (the pump has tests of its own, on committed data).
    settings.TELEPHONY_PROCESSING = "inline"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # The two-factor policy is off by default so that tests log staff in with a password;
    # accounts/tests/test_two_factor.py turns it on where it is what is tested.
    settings.TWO_FACTOR_REQUIRED_ROLES = []
    # A fresh cache per test: cached counters and de-duplication keys must not leak from
    # one test to the next (ids repeat once each test's transaction is rolled back). The
    # channel layer stays on Redis when REDIS_URL is set.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                   "LOCATION": "permanence-tests"}}
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _keep_test_connection(monkeypatch: Any) -> None:
    """Worker and scheduler loops call close_old_connections() between jobs, as Django does
    between requests. Inside a test's transaction that would close the connection holding the
    test data (PostgreSQL keeps connections, CONN_MAX_AGE > 0), so — like Django's test client,
    which disconnects it from the request signals — tests make it a no-op."""
    from django_tasks_db.management.commands import db_worker

    from permanence.core.management.commands import scheduler

    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)
    monkeypatch.setattr(scheduler, "close_old_connections", lambda: None)


@pytest.fixture
def make_user(db: Any) -> Any:
    from permanence.accounts.models import User

    def make(email: str, role: str, **extra: Any) -> User:
        return User.objects.create_user(email, PASSWORD, role=role,
                                        full_name=extra.pop("full_name", email.split("@", maxsplit=1)[0]),
                                        **extra)

    return make


@pytest.fixture
def admin_user(make_user: Any) -> Any:
    return make_user("admin@test.fr", "admin")


@pytest.fixture
def supervisor(make_user: Any) -> Any:
    return make_user("superviseur@test.fr", "supervisor")


@pytest.fixture
def agent(make_user: Any) -> Any:
    return make_user("agent@test.fr", "agent")


@pytest.fixture
def other_agent(make_user: Any) -> Any:
    return make_user("agent2@test.fr", "agent")


@pytest.fixture
def billing(make_user: Any) -> Any:
    return make_user("compta@test.fr", "billing")


@pytest.fixture
def client_user(make_user: Any) -> Any:
    return make_user("client@test.fr", "client")


@pytest.fixture
def outsider_client(make_user: Any) -> Any:
    return make_user("autre-client@test.fr", "client")


@pytest.fixture
def account(db: Any, agent: Any, client_user: Any) -> Any:
    """An account assigned to `agent`, with `client_user` as its titulaire."""
    from permanence.accounts.models import ClientAccount, Membership

    acc = ClientAccount.objects.create(name="Cabinet Martin", slug="cabinet-martin",
                                       sector="medical", status="actif")
    acc.assigned_agents.add(agent)
    Membership.objects.create(user=client_user, account=acc, role="titulaire")
    return acc


@pytest.fixture
def other_account(db: Any, other_agent: Any, outsider_client: Any) -> Any:
    """An account `agent` and `client_user` must never see."""
    from permanence.accounts.models import ClientAccount, Membership

    acc = ClientAccount.objects.create(name="Durand Avocats", slug="durand-avocats",
                                       sector="juridique", status="actif")
    acc.assigned_agents.add(other_agent)
    Membership.objects.create(user=outsider_client, account=acc, role="titulaire")
    return acc


@pytest.fixture
def api_client_for(db: Any) -> Any:
    """api_client_for(user) → a Django test Client sending that user's Bearer token."""
    from django.test import Client

    from permanence.accounts.services import api_token_create

    def make(user: Any) -> Client:
        _token, raw = api_token_create(actor=user, user=user, name="test")
        return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")

    return make
