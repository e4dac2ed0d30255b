"""The accounts API's `email_addresses` and `phone_numbers` (from ContactChannel): shown to
everyone who sees the account, replaced as a whole by administrators only."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from permanence.accounts.models import ClientAccount, ContactChannel
from permanence.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def send(client: Client, method: str, url: str, body: Any) -> Any:
    return client.generic(method, url, json.dumps(body), content_type="application/json")


def assert_json_error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) >= {"code", "message", "errors"}
    return body


def channels(account: Any) -> set[tuple[str, str]]:
    return set(ContactChannel.objects.filter(account=account).values_list("kind", "value"))


@pytest.fixture
def wired(account: Any, other_account: Any) -> Any:
    ContactChannel.objects.create(account=account, kind="email", value="accueil@martin.fr",
                                  label="Accueil")
    ContactChannel.objects.create(account=account, kind="phone", value="+33123456789")
    ContactChannel.objects.create(account=other_account, kind="email",
                                  value="contact@durand.fr")
    return account


@pytest.mark.parametrize("role", ["admin_user", "supervisor", "billing", "agent",
                                  "client_user"])
def test_detail_and_list_show_the_channels(request: Any, api_client_for: Any, wired: Any,
                                           role: str) -> None:
    client = api_client_for(request.getfixturevalue(role))
    detail = client.get(f"/api/v1/accounts/{wired.pk}").json()
    assert detail["email_addresses"] == ["accueil@martin.fr"]
    assert detail["phone_numbers"] == ["+33123456789"]
    [item] = [a for a in client.get("/api/v1/accounts").json()["items"] if a["id"] == wired.pk]
    assert (item["email_addresses"], item["phone_numbers"]) == (["accueil@martin.fr"],
                                                                ["+33123456789"])


def test_create_with_channels(api_client_for: Any, admin_user: Any) -> None:
    response = send(api_client_for(admin_user), "POST", "/api/v1/accounts", {
        "name": "Cabinet Roux", "email_addresses": ["Secretariat@Roux.fr", "rdv@roux.fr",
                                                    "secretariat@roux.fr"],
        "phone_numbers": ["01 23 45 67 00"]})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["email_addresses"] == ["rdv@roux.fr", "secretariat@roux.fr"]
    assert body["phone_numbers"] == ["+33123456700"]
    account = ClientAccount.objects.get(pk=body["id"])
    assert channels(account) == {("email", "rdv@roux.fr"), ("email", "secretariat@roux.fr"),
                                 ("phone", "+33123456700")}
    assert AuditEvent.objects.filter(action="create",
                                     target_type="accounts.contactchannel").count() == 3


def test_patch_replaces_the_set(api_client_for: Any, admin_user: Any, wired: Any) -> None:
    client = api_client_for(admin_user)
    response = send(client, "PATCH", f"/api/v1/accounts/{wired.pk}",
                    {"email_addresses": ["accueil@martin.fr", "urgences@martin.fr"]})
    assert response.status_code == 200, response.content
    assert response.json()["email_addresses"] == ["accueil@martin.fr", "urgences@martin.fr"]
    assert response.json()["phone_numbers"] == ["+33123456789"]  # not sent: untouched
    # The kept address keeps its label (not deleted and re-created).
    assert ContactChannel.objects.get(value="accueil@martin.fr").label == "Accueil"
    response = send(client, "PATCH", f"/api/v1/accounts/{wired.pk}",
                    {"email_addresses": [], "phone_numbers": ["+33 6 12 34 56 78"]})
    assert response.status_code == 200, response.content
    assert channels(wired) == {("phone", "+33612345678")}
    assert AuditEvent.objects.filter(action="delete",
                                     target_type="accounts.contactchannel").count() == 3


def test_a_value_of_another_account_is_422_and_nothing_changes(api_client_for: Any,
                                                               admin_user: Any,
                                                               wired: Any) -> None:
    before = channels(wired)
    response = send(api_client_for(admin_user), "PATCH", f"/api/v1/accounts/{wired.pk}", {
        "name": "Renommé", "email_addresses": ["nouveau@martin.fr", "Contact@Durand.fr"],
        "phone_numbers": []})
    body = assert_json_error(response, 422)
    assert body["code"] == "invalid"
    [message] = body["errors"]["email_addresses"]
    assert message.startswith("Adresse e-mail contact@durand.fr")
    assert "Déjà utilisé" in message and "Durand Avocats" in message
    wired.refresh_from_db()
    assert wired.name == "Cabinet Martin"
    assert channels(wired) == before


def test_creating_with_a_taken_value_creates_nothing(api_client_for: Any, admin_user: Any,
                                                     wired: Any) -> None:
    body = assert_json_error(send(api_client_for(admin_user), "POST", "/api/v1/accounts", {
        "name": "Doublon", "phone_numbers": ["01 23 45 67 89"]}), 422)
    assert "Numéro de téléphone" in body["errors"]["phone_numbers"][0]
    assert not ClientAccount.objects.filter(name="Doublon").exists()


@pytest.mark.parametrize(("payload", "field"), [
    ({"email_addresses": ["pas-une-adresse"]}, "email_addresses"),
    ({"phone_numbers": ["12"]}, "phone_numbers"),
    ({"email_addresses": "a@b.fr"}, "email_addresses"),
    ({"phone_numbers": [12]}, "phone_numbers.0"),
])
def test_invalid_values_are_422(api_client_for: Any, admin_user: Any, wired: Any,
                                payload: dict[str, Any], field: str) -> None:
    before = channels(wired)
    body = assert_json_error(send(api_client_for(admin_user), "PATCH",
                                  f"/api/v1/accounts/{wired.pk}", payload), 422)
    assert field in body["errors"], body
    assert channels(wired) == before


@pytest.mark.parametrize("field", ["email_addresses", "phone_numbers"])
def test_only_administrators_may_send_them(api_client_for: Any, supervisor: Any, wired: Any,
                                           field: str) -> None:
    client = api_client_for(supervisor)
    before = channels(wired)
    body = assert_json_error(send(client, "PATCH", f"/api/v1/accounts/{wired.pk}",
                                  {"name": "Renommé", field: []}), 403)
    assert body["code"] == "forbidden"
    wired.refresh_from_db()
    assert wired.name == "Cabinet Martin" and channels(wired) == before
    assert_json_error(send(client, "POST", "/api/v1/accounts",
                           {"name": "Nouveau", field: []}), 403)
    assert not ClientAccount.objects.filter(name="Nouveau").exists()
    # Without them, a supervisor still edits the account.
    assert send(client, "PATCH", f"/api/v1/accounts/{wired.pk}",
                {"name": "Renommé"}).status_code == 200


@pytest.mark.parametrize(("role", "status"), [("agent", 403), ("billing", 403),
                                              ("client_user", 403), ("other_agent", 404),
                                              ("outsider_client", 404)])
def test_other_roles_cannot_change_them(request: Any, api_client_for: Any, wired: Any,
                                        role: str, status: int) -> None:
    before = channels(wired)
    assert_json_error(send(api_client_for(request.getfixturevalue(role)), "PATCH",
                           f"/api/v1/accounts/{wired.pk}", {"email_addresses": []}), status)
    assert channels(wired) == before


def test_list_query_count_stays_constant(api_client_for: Any, admin_user: Any,
                                         agent: Any) -> None:
    accounts = ClientAccount.objects.bulk_create(
        ClientAccount(name=f"Compte {i:02d}", slug=f"compte-{i:02d}") for i in range(60))
    ContactChannel.objects.bulk_create(
        [ContactChannel(account=a, kind="email", value=f"c{a.pk}@exemple.fr") for a in accounts]
        + [ContactChannel(account=a, kind="phone", value=f"+3312345{a.pk:04d}")
           for a in accounts])
    through = ClientAccount.assigned_agents.through
    through.objects.bulk_create(through(clientaccount_id=a.pk, user_id=agent.pk)
                                for a in accounts)
    client = api_client_for(admin_user)
    client.get("/api/v1/accounts?limit=1")
    counts = {}
    for limit in (5, 50):
        with CaptureQueriesContext(connection) as ctx:
            items = client.get(f"/api/v1/accounts?limit={limit}").json()["items"]
        assert len(items) == limit
        assert all(len(i["email_addresses"]) == 1 and len(i["phone_numbers"]) == 1
                   for i in items)
        counts[limit] = len(ctx.captured_queries)
    assert counts[5] == counts[50] <= 5, counts
