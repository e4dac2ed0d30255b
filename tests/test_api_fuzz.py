"""Robustness suite (issue 15, "Security"): schemathesis fuzzes every operation of
`/api/v1/openapi.json`, in-process through Django's WSGI application, as an administrator,
a secretary (agent) and a client, each with a personal API token.

Every generated request (valid and invalid data, as each role) must get an answer that is
not a 5xx, whose status code is declared by the operation, whose content type, headers and
body match the documented schema; schema-violating input must be refused (4xx); a token-less
request to an authenticated operation must be refused. Hypothesis keeps the run bounded: a
few examples per operation and role (`MAX_EXAMPLES`), derandomized (the same cases on every
run, so CI is reproducible), no deadline.

One built-in check is left out: `positive_data_acceptance` expects every schema-valid request
to succeed, but the API refuses, with its documented 400/422 and the field named, what the
schema cannot express: a slug already taken, a SIRET with a bad checksum, an integer beyond
64 bits (the global guard of `permanence/api.py`), a duration outside its business range, an
unsigned webhook.

No operation is excluded: none calls an external provider synchronously within a request the
fuzzer can make succeed. The CalDAV sync (`POST /agenda/resources/{id}/sync`) only enqueues
a task (the fixture's resource has no CalDAV URL), and the Stripe, telephony and SMS
webhooks refuse unsigned payloads before doing anything.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance

from permanence.accounts.models import ClientAccount, Membership, User
from permanence.accounts.services import api_token_create
from permanence.inbox import services as inbox_services
from permanence.shop.orders import order_transition
from testkit.shop import make_order

MAX_EXAMPLES = 8
ROLES = ("admin", "agent", "client")

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())


@pytest.fixture
def _keep_connection_between_requests() -> Any:
    """Django closes the database connection when a request ends; inside a test's transaction
    that connection holds the test data. Django's test client disconnects the same handlers."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def tokens(db: Any, _keep_connection_between_requests: Any) -> dict[str, str]:
    """One user per role and some data for them to see: a client account with its agent and
    its client member, a conversation and a paid order."""
    users = {role: User.objects.create_user(f"{role}@fuzz.test", None, role=role,
                                            full_name=role)
             for role in ROLES}
    ClientAccount.objects.create(name="Permanence", slug="operateur", is_operator=True,
                                 status="actif")
    account = ClientAccount.objects.create(name="Cabinet Martin", slug="cabinet-martin",
                                           status="actif")
    account.assigned_agents.add(users["agent"])
    Membership.objects.create(user=users["client"], account=account, role="titulaire")
    inbox_services.conversation_open(inbox_services.Incoming(
        account=account, channel="email", subject="Question", body_text="Bonjour",
        contact_email="jean@exemple.fr", acknowledge=False))
    order_transition(order=make_order(account, users["client"]), to="payee")
    return {role: api_token_create(actor=user, user=user, name="fuzz")[1]
            for role, user in users.items()}


@pytest.mark.parametrize("role", ROLES)
@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_api_answers_as_documented(case: Any, role: str, tokens: dict[str, str]) -> None:
    # Each example in a savepoint rolled back after it, as each request commits on its own in
    # production: a statement PostgreSQL refused (a value beyond a column, answered 422 by
    # permanence.api) must not leave the test's transaction aborted for the next example.
    savepoint = transaction.savepoint()
    try:
        case.call_and_validate(headers={"Authorization": f"Bearer {tokens[role]}"},
                               excluded_checks=[positive_data_acceptance])
    finally:
        transaction.savepoint_rollback(savepoint)
