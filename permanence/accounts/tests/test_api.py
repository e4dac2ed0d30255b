"""The REST API at /api/v1/: identity, client accounts, calendars, business time."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from permanence.accounts.models import ApiToken, ClientAccount
from permanence.audit.models import AuditEvent

pytestmark = pytest.mark.django_db

VALID_SIRET = "73282932000074"  # valid Luhn key
OFFICE = [["08:30", "12:30"], ["14:00", "18:00"]]
WEEKLY = {d: (OFFICE if d not in ("sat", "sun") else [])
          for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def send(client: Client, method: str, url: str, body: Any = None) -> Any:
    raw = body if isinstance(body, str) else json.dumps(body if body is not None else {})
    return client.generic(method, url, raw, content_type="application/json")


def ids(response: Any) -> set[int]:
    return {item["id"] for item in response.json()["items"]}


def assert_json_error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) >= {"code", "message", "errors"}
    return body


# --- /me ---------------------------------------------------------------------------------------


def test_me_for_a_staff_member(api_client_for: Any, agent: Any, account: Any) -> None:
    response = api_client_for(agent).get("/api/v1/me")
    assert response.status_code == 200
    assert response.json() == {
        "id": agent.pk, "email": "agent@test.fr", "full_name": agent.full_name,
        "role": "agent", "is_staff_member": True, "accounts": [],
    }


def test_me_for_a_client_lists_their_accounts(api_client_for: Any, client_user: Any,
                                               account: Any, other_account: Any) -> None:
    body = api_client_for(client_user).get("/api/v1/me").json()
    assert body["role"] == "client"
    assert body["is_staff_member"] is False
    assert body["accounts"] == [account.pk]


def test_me_without_credentials_is_401_json() -> None:
    body = assert_json_error(Client().get("/api/v1/me"), 401)
    assert body["code"] == "unauthorized"


# --- Authentication ----------------------------------------------------------------------------


def test_revoked_token_is_401(agent: Any) -> None:
    from permanence.accounts.services import api_token_create, api_token_revoke

    token, raw = api_token_create(actor=agent, user=agent, name="t")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get("/api/v1/me").status_code == 200
    api_token_revoke(actor=agent, token=token)
    assert_json_error(client.get("/api/v1/me"), 401)


def test_token_of_an_inactive_user_is_401(api_client_for: Any, agent: Any) -> None:
    client = api_client_for(agent)
    assert client.get("/api/v1/me").status_code == 200
    agent.is_active = False
    agent.save(update_fields=["is_active"])
    assert_json_error(client.get("/api/v1/me"), 401)
    assert_json_error(client.get("/api/v1/accounts"), 401)


@pytest.mark.parametrize("header", ["Bearer pmt_inconnu", "Token abc", "Bearer ", "Basic eDp5"])
def test_bad_credentials_are_401(agent: Any, header: str) -> None:
    assert_json_error(Client(HTTP_AUTHORIZATION=header).get("/api/v1/accounts"), 401)


def test_only_the_token_hash_is_stored(agent: Any) -> None:
    from permanence.accounts.services import api_token_create

    token, raw = api_token_create(actor=agent, user=agent, name="t")
    stored = ApiToken.objects.get(pk=token.pk)
    assert raw not in {stored.token_hash, stored.prefix, stored.name}
    assert raw.startswith(stored.prefix)


# --- Listing accounts --------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "sees"), [
    ("admin_user", {"account", "other_account"}),
    ("supervisor", {"account", "other_account"}),
    ("billing", {"account", "other_account"}),
    ("agent", {"account"}),
    ("other_agent", {"other_account"}),
    ("client_user", {"account"}),
    ("outsider_client", {"other_account"}),
])
def test_list_shows_only_visible_accounts(request: Any, api_client_for: Any, account: Any,
                                          other_account: Any, role: str, sees: set[str]) -> None:
    ClientAccount.objects.create(name="Sans affectation", slug="sans-affectation")
    user = request.getfixturevalue(role)
    response = api_client_for(user).get("/api/v1/accounts")
    assert response.status_code == 200
    expected = {request.getfixturevalue(name).pk for name in sees}
    if role in ("admin_user", "supervisor", "billing"):
        expected.add(ClientAccount.objects.get(slug="sans-affectation").pk)
    assert ids(response) == expected
    assert response.json()["count"] == len(expected)


@pytest.fixture
def catalogue(account: Any, other_account: Any) -> dict[str, ClientAccount]:
    from permanence.accounts.models import ContactChannel

    made = {
        "plombier": ClientAccount.objects.create(
            name="Plomberie Léon", slug="plomberie-leon", sector="artisan_btp", status="actif",
            siret=VALID_SIRET),
        "boutique": ClientAccount.objects.create(
            name="Boutique Zoé", slug="boutique-zoe", sector="ecommerce", status="suspendu"),
        "particulier": ClientAccount.objects.create(
            name="M. Bernard", slug="m-bernard", kind="particulier", status="prospect"),
    }
    ContactChannel.objects.create(account=made["boutique"], kind="email",
                                  value="contact@zoe-boutique.fr")
    return {**made, "martin": account, "durand": other_account}


@pytest.mark.parametrize(("query", "expected"), [
    ("q=plomberie", {"plombier"}),
    ("q=BOUTIQUE", {"boutique"}),  # name, case-insensitive (and channel value)
    ("q=zoe-boutique", {"boutique"}),  # contact channel value
    ("q=m-bernard", {"particulier"}),  # slug
    ("q=732%20829%20320", {"plombier"}),  # SIRET typed with spaces
    ("status=actif", {"plombier", "martin", "durand"}),
    ("status=suspendu", {"boutique"}),
    ("sector=juridique", {"durand"}),
    ("kind=particulier", {"particulier"}),
    ("kind=professionnel&status=actif&sector=medical", {"martin"}),
    ("q=introuvable", set()),
])
def test_list_filters(api_client_for: Any, admin_user: Any, catalogue: dict[str, Any],
                      query: str, expected: set[str]) -> None:
    response = api_client_for(admin_user).get(f"/api/v1/accounts?{query}")
    assert response.status_code == 200
    assert ids(response) == {catalogue[name].pk for name in expected}
    assert response.json()["count"] == len(expected)


def test_filters_never_widen_an_agents_view(api_client_for: Any, agent: Any,
                                            catalogue: dict[str, Any]) -> None:
    response = api_client_for(agent).get("/api/v1/accounts?status=actif")
    assert ids(response) == {catalogue["martin"].pk}


@pytest.mark.parametrize("query", ["status=inconnu", "sector=x", "kind=y", "limit=0",
                                   "limit=201", "offset=-1", "limit=abc"])
def test_invalid_filters_are_422(api_client_for: Any, admin_user: Any, query: str) -> None:
    body = assert_json_error(api_client_for(admin_user).get(f"/api/v1/accounts?{query}"), 422)
    assert body["errors"]


def test_pagination(api_client_for: Any, admin_user: Any) -> None:
    ClientAccount.objects.bulk_create(
        ClientAccount(name=f"Compte {i:02d}", slug=f"compte-{i:02d}") for i in range(12))
    client = api_client_for(admin_user)
    first = client.get("/api/v1/accounts?limit=5").json()
    assert (first["count"], first["limit"], first["offset"]) == (12, 5, 0)
    assert [a["name"] for a in first["items"]] == [f"Compte {i:02d}" for i in range(5)]
    last = client.get("/api/v1/accounts?limit=5&offset=10").json()
    assert [a["name"] for a in last["items"]] == ["Compte 10", "Compte 11"]
    assert last["count"] == 12
    beyond = client.get("/api/v1/accounts?offset=50").json()
    assert beyond["items"] == [] and beyond["count"] == 12
    default = client.get("/api/v1/accounts").json()
    assert default["limit"] == 50 and len(default["items"]) == 12


def test_list_query_count_does_not_depend_on_page_size(api_client_for: Any, admin_user: Any,
                                                       agent: Any, other_agent: Any) -> None:
    accounts = ClientAccount.objects.bulk_create(
        ClientAccount(name=f"Compte {i:02d}", slug=f"compte-{i:02d}") for i in range(60))
    through = ClientAccount.assigned_agents.through
    through.objects.bulk_create(
        [through(clientaccount_id=a.pk, user_id=agent.pk) for a in accounts]
        + [through(clientaccount_id=a.pk, user_id=other_agent.pk) for a in accounts[::2]])
    client = api_client_for(admin_user)
    client.get("/api/v1/accounts?limit=1")  # token's last_used_at gets its (throttled) write
    counts = {}
    for limit in (5, 50):
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(f"/api/v1/accounts?limit={limit}")
        assert response.status_code == 200
        assert len(response.json()["items"]) == limit
        assert response.json()["items"][0]["assigned_agents"] == sorted(
            [agent.pk, other_agent.pk])
        counts[limit] = len(ctx.captured_queries)
    assert counts[5] == counts[50], counts
    assert counts[50] <= 5, counts


# --- Creating accounts -------------------------------------------------------------------------


def test_create_account(api_client_for: Any, supervisor: Any, agent: Any) -> None:
    response = send(api_client_for(supervisor), "POST", "/api/v1/accounts", {
        "name": "Cabinet Dupont & Fils", "sector": "medical", "siret": "732 829 320 00074",
        "vat_number": "FR40303265045", "status": "actif", "assigned_agents": [agent.pk],
    })
    assert response.status_code == 201, response.content
    body = response.json()
    assert {"id", "slug", "name", "kind", "sector", "siret", "vat_number", "status",
            "assigned_agents"} <= set(body)
    assert body["slug"] == "cabinet-dupont-fils"
    assert body["siret"] == VALID_SIRET  # stored compact
    assert body["vat_number"] == "FR40303265045"
    assert body["kind"] == "professionnel"
    assert (body["sector"], body["status"]) == ("medical", "actif")
    assert body["assigned_agents"] == [agent.pk]
    created = ClientAccount.objects.get(pk=body["id"])
    assert list(created.assigned_agents.all()) == [agent]
    assert AuditEvent.objects.filter(action="create", target_type="accounts.clientaccount",
                                     target_id=str(created.pk), actor=supervisor).exists()


def test_create_with_invalid_siret_is_422_in_french(api_client_for: Any,
                                                    admin_user: Any) -> None:
    response = send(api_client_for(admin_user), "POST", "/api/v1/accounts",
                    {"name": "Mauvais SIRET", "siret": "73282932000075"})
    body = assert_json_error(response, 422)
    assert body["code"] == "invalid"
    assert "SIRET invalide" in body["errors"]["siret"][0]
    assert not ClientAccount.objects.filter(name="Mauvais SIRET").exists()


def test_create_with_invalid_vat_is_422(api_client_for: Any, admin_user: Any) -> None:
    body = assert_json_error(send(api_client_for(admin_user), "POST", "/api/v1/accounts",
                                  {"name": "TVA", "vat_number": "FR00000000000"}), 422)
    assert "TVA" in body["errors"]["vat_number"][0]


@pytest.mark.parametrize("role", ["agent", "billing", "client_user"])
def test_create_by_a_non_manager_is_403_json(request: Any, api_client_for: Any,
                                             role: str) -> None:
    client = api_client_for(request.getfixturevalue(role))
    body = assert_json_error(send(client, "POST", "/api/v1/accounts", {"name": "Interdit"}), 403)
    assert body["code"] == "forbidden"
    assert not ClientAccount.objects.filter(name="Interdit").exists()


def test_create_with_a_duplicate_slug_is_422(api_client_for: Any, admin_user: Any,
                                             account: Any) -> None:
    client = api_client_for(admin_user)
    body = assert_json_error(send(client, "POST", "/api/v1/accounts",
                                  {"name": "Autre", "slug": "cabinet-martin"}), 422)
    assert "slug" in body["errors"]
    # Same when the slug is derived from the name.
    body = assert_json_error(send(client, "POST", "/api/v1/accounts",
                                  {"name": "Cabinet Martin"}), 422)
    assert "slug" in body["errors"]
    assert ClientAccount.objects.filter(slug="cabinet-martin").count() == 1


def test_create_with_a_non_agent_is_422_and_creates_nothing(api_client_for: Any,
                                                            admin_user: Any,
                                                            billing: Any) -> None:
    body = assert_json_error(send(api_client_for(admin_user), "POST", "/api/v1/accounts",
                                  {"name": "Affectation", "assigned_agents": [billing.pk]}), 422)
    assert "assigned_agents" in body["errors"]
    assert not ClientAccount.objects.filter(name="Affectation").exists()


@pytest.mark.parametrize("body", [{}, {"name": ""}, {"name": "x", "status": "ouvert"},
                                  {"name": "x", "assigned_agents": "tous"}])
def test_create_with_invalid_fields_is_422(api_client_for: Any, admin_user: Any,
                                           body: dict[str, Any]) -> None:
    before = ClientAccount.objects.count()
    assert_json_error(send(api_client_for(admin_user), "POST", "/api/v1/accounts", body), 422)
    assert ClientAccount.objects.count() == before


WRITES = [
    ("POST", "/api/v1/accounts"), ("PATCH", "/api/v1/accounts/{pk}"),
    ("PUT", "/api/v1/accounts/{pk}/calendar"), ("POST", "/api/v1/calendar/add-business-time"),
    ("POST", "/api/v1/calendar/business-time-between"),
]


@pytest.mark.parametrize(("method", "path"), WRITES)
@pytest.mark.parametrize("raw", ["{pas du json", "[1, 2", "\x00\xff", "{'name': 'x'}",
                                 '{"name": "x",}'])
def test_malformed_body_is_a_json_4xx(api_client_for: Any, admin_user: Any, account: Any,
                                      method: str, path: str, raw: str) -> None:
    client = api_client_for(admin_user)
    before = AuditEvent.objects.count()
    response = send(client, method, path.format(pk=account.pk), raw)
    assert 400 <= response.status_code < 500, (response.status_code, response.content)
    assert response["Content-Type"].startswith("application/json")
    assert "message" in response.json()
    assert AuditEvent.objects.count() == before


@pytest.mark.parametrize(("method", "path"), [w for w in WRITES if w[0] != "PATCH"])
@pytest.mark.parametrize("raw", ["[]", "null", '"texte"', "42", ""])
def test_a_body_that_is_not_an_object_is_422(api_client_for: Any, admin_user: Any,
                                             account: Any, method: str, path: str,
                                             raw: str) -> None:
    response = send(api_client_for(admin_user), method, path.format(pk=account.pk), raw)
    assert_json_error(response, 422)


# --- One account -------------------------------------------------------------------------------


def test_detail(api_client_for: Any, agent: Any, client_user: Any, account: Any) -> None:
    for user in (agent, client_user):
        response = api_client_for(user).get(f"/api/v1/accounts/{account.pk}")
        assert response.status_code == 200
        assert response.json()["slug"] == "cabinet-martin"
        assert response.json()["assigned_agents"] == [agent.pk]


@pytest.mark.parametrize("role", ["agent", "client_user"])
def test_detail_of_an_invisible_account_is_404(request: Any, api_client_for: Any, role: str,
                                                other_account: Any) -> None:
    client = api_client_for(request.getfixturevalue(role))
    body = assert_json_error(client.get(f"/api/v1/accounts/{other_account.pk}"), 404)
    assert body["code"] == "not_found"
    assert_json_error(client.get("/api/v1/accounts/999999"), 404)


def test_patch(api_client_for: Any, supervisor: Any, account: Any) -> None:
    response = send(api_client_for(supervisor), "PATCH", f"/api/v1/accounts/{account.pk}",
                    {"name": "Cabinet Martin & Associés", "status": "suspendu"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["name"], body["status"]) == ("Cabinet Martin & Associés", "suspendu")
    assert body["slug"] == "cabinet-martin"  # untouched fields stay as they were
    account.refresh_from_db()
    assert (account.name, account.status, account.sector) == (
        "Cabinet Martin & Associés", "suspendu", "medical")
    event = AuditEvent.objects.get(action="update", target_id=str(account.pk))
    assert event.changes["status"] == ["actif", "suspendu"]


def test_patch_by_an_agent_is_403(api_client_for: Any, agent: Any, account: Any) -> None:
    response = send(api_client_for(agent), "PATCH", f"/api/v1/accounts/{account.pk}",
                    {"status": "resilie"})
    assert assert_json_error(response, 403)["code"] == "forbidden"
    account.refresh_from_db()
    assert account.status == "actif"


def test_patch_of_an_invisible_account_is_404(api_client_for: Any, other_agent: Any,
                                              account: Any) -> None:
    assert_json_error(send(api_client_for(other_agent), "PATCH",
                           f"/api/v1/accounts/{account.pk}", {"status": "resilie"}), 404)


def test_patch_assigned_agents(api_client_for: Any, admin_user: Any, agent: Any,
                               other_agent: Any, account: Any) -> None:
    client = api_client_for(admin_user)
    response = send(client, "PATCH", f"/api/v1/accounts/{account.pk}",
                    {"assigned_agents": [other_agent.pk, agent.pk]})
    assert response.status_code == 200
    assert response.json()["assigned_agents"] == sorted([agent.pk, other_agent.pk])
    response = send(client, "PATCH", f"/api/v1/accounts/{account.pk}", {"assigned_agents": []})
    assert response.json()["assigned_agents"] == []
    assert not account.assigned_agents.exists()
    # The agent no longer sees it.
    assert_json_error(api_client_for(agent).get(f"/api/v1/accounts/{account.pk}"), 404)


@pytest.mark.parametrize("who", ["billing", "client_user", "admin_user"])
def test_patch_assigning_a_non_agent_is_422_and_atomic(request: Any, api_client_for: Any,
                                                       admin_user: Any, agent: Any,
                                                       account: Any, who: str) -> None:
    user = request.getfixturevalue(who)
    response = send(api_client_for(admin_user), "PATCH", f"/api/v1/accounts/{account.pk}",
                    {"name": "Renommé", "assigned_agents": [agent.pk, user.pk]})
    body = assert_json_error(response, 422)
    assert "assigned_agents" in body["errors"]
    account.refresh_from_db()
    assert account.name == "Cabinet Martin"  # the rename was rolled back too
    assert list(account.assigned_agents.all()) == [agent]


def test_patch_to_a_slug_in_use_is_422(api_client_for: Any, admin_user: Any, account: Any,
                                       other_account: Any) -> None:
    body = assert_json_error(send(api_client_for(admin_user), "PATCH",
                                  f"/api/v1/accounts/{account.pk}", {"slug": "durand-avocats"}),
                             422)
    assert "slug" in body["errors"]


def test_patch_with_invalid_siret_is_422(api_client_for: Any, admin_user: Any,
                                         account: Any) -> None:
    body = assert_json_error(send(api_client_for(admin_user), "PATCH",
                                  f"/api/v1/accounts/{account.pk}", {"siret": "123"}), 422)
    assert "SIRET" in body["errors"]["siret"][0]


# --- Calendars ---------------------------------------------------------------------------------


def test_calendar_defaults_to_office_hours(api_client_for: Any, agent: Any,
                                           account: Any) -> None:
    response = api_client_for(agent).get(f"/api/v1/accounts/{account.pk}/calendar")
    assert response.status_code == 200
    assert response.json() == {"timezone": "Europe/Paris", "weekly": WEEKLY,
                               "holidays": "FR", "closures": []}


def test_calendar_put_round_trips(api_client_for: Any, supervisor: Any, client_user: Any,
                                  account: Any) -> None:
    data = {
        "timezone": "Europe/Paris",
        "weekly": {**WEEKLY, "sat": [["09:00", "12:00"]], "wed": [["08:30", "12:30"]]},
        "holidays": "FR-57",
        "closures": [{"start": "2026-12-24T12:00:00+01:00", "end": "2026-12-28T08:00:00+01:00",
                      "message": "Fermeture de Noël"}],
    }
    client = api_client_for(supervisor)
    response = send(client, "PUT", f"/api/v1/accounts/{account.pk}/calendar", data)
    assert response.status_code == 200, response.content
    assert response.json() == data
    assert client.get(f"/api/v1/accounts/{account.pk}/calendar").json() == data
    # The client sees its own account's calendar too.
    assert api_client_for(client_user).get(
        f"/api/v1/accounts/{account.pk}/calendar").json() == data
    account.refresh_from_db()
    assert account.calendar is not None
    assert account.calendar.closures.count() == 1


def test_calendar_put_does_not_touch_other_accounts(api_client_for: Any, admin_user: Any,
                                                    account: Any, other_account: Any) -> None:
    client = api_client_for(admin_user)
    send(client, "PUT", f"/api/v1/accounts/{account.pk}/calendar",
         {"weekly": {"mon": [["10:00", "11:00"]]}, "holidays": None})
    other = client.get(f"/api/v1/accounts/{other_account.pk}/calendar").json()
    assert other["weekly"] == WEEKLY


@pytest.mark.parametrize(("weekly", "key"), [
    ({"mon": [["18:00", "08:00"]]}, "weekly.mon"),
    ({"tue": [["25:00", "26:00"]]}, "weekly.tue"),
    ({"lundi": [["08:00", "12:00"]]}, "weekly"),
])
def test_calendar_put_invalid_weekly_is_422_with_field_errors(
        api_client_for: Any, admin_user: Any, account: Any, weekly: Any, key: str) -> None:
    response = send(api_client_for(admin_user), "PUT", f"/api/v1/accounts/{account.pk}/calendar",
                    {"weekly": weekly})
    body = assert_json_error(response, 422)
    assert key in body["errors"], body
    account.refresh_from_db()
    assert account.calendar is None


def test_calendar_put_with_naive_closure_is_422(api_client_for: Any, admin_user: Any,
                                                account: Any) -> None:
    body = assert_json_error(send(
        api_client_for(admin_user), "PUT", f"/api/v1/accounts/{account.pk}/calendar",
        {"weekly": WEEKLY, "closures": [{"start": "2026-12-24T12:00:00",
                                         "end": "2026-12-26T12:00:00+01:00"}]}), 422)
    assert "closures.0.start" in body["errors"]


@pytest.mark.parametrize("role", ["agent", "billing", "client_user"])
def test_calendar_put_by_a_non_manager_is_403(request: Any, api_client_for: Any, account: Any,
                                              role: str) -> None:
    response = send(api_client_for(request.getfixturevalue(role)), "PUT",
                    f"/api/v1/accounts/{account.pk}/calendar", {"weekly": WEEKLY})
    assert_json_error(response, 403)
    account.refresh_from_db()
    assert account.calendar is None


def test_calendar_of_an_invisible_account_is_404(api_client_for: Any, agent: Any,
                                                 other_account: Any) -> None:
    assert_json_error(api_client_for(agent).get(
        f"/api/v1/accounts/{other_account.pk}/calendar"), 404)


# --- Business time -----------------------------------------------------------------------------


@pytest.fixture
def office_account(account: Any, admin_user: Any) -> Any:
    """`account` with Mon–Fri 08:30–12:30 / 14:00–18:00, French public holidays."""
    from permanence.calendars.services import calendar_set

    calendar_set(actor=admin_user, account=account,
                 data={"timezone": "Europe/Paris", "weekly": WEEKLY, "holidays": "FR"})
    return account


@pytest.mark.parametrize(("start", "hours", "due"), [
    ("2026-11-20T17:00:00+01:00", 2, "2026-11-23T09:30:00+01:00"),  # over the weekend
    ("2026-11-20T16:00:00Z", 2, "2026-11-23T09:30:00+01:00"),  # same instant, in UTC
    ("2026-11-10T17:00:00+01:00", 2, "2026-11-12T09:30:00+01:00"),  # 11 Nov is a holiday
    ("2026-11-23T12:00:00+01:00", 1, "2026-11-23T14:30:00+01:00"),  # over lunch
    ("2026-11-21T10:00:00+01:00", 0.5, "2026-11-23T09:00:00+01:00"),  # from a Saturday
    ("2026-11-23T09:00:00+01:00", 0, "2026-11-23T09:00:00+01:00"),
])
def test_add_business_time(api_client_for: Any, agent: Any, office_account: Any, start: str,
                           hours: float, due: str) -> None:
    response = send(api_client_for(agent), "POST", "/api/v1/calendar/add-business-time",
                    {"account": office_account.pk, "start": start, "hours": hours})
    assert response.status_code == 200, response.content
    assert response.json() == {"due": due}


@pytest.mark.parametrize(("start", "end", "seconds"), [
    ("2026-11-20T17:00:00+01:00", "2026-11-23T09:30:00+01:00", 7200),
    ("2026-11-23T08:00:00+01:00", "2026-11-23T19:00:00+01:00", 8 * 3600),
    ("2026-11-21T08:00:00+01:00", "2026-11-22T20:00:00+01:00", 0),
    ("2026-11-23T09:00:00+01:00", "2026-11-23T09:00:00.5+01:00", 0.5),
])
def test_business_time_between(api_client_for: Any, client_user: Any, office_account: Any,
                               start: str, end: str, seconds: float) -> None:
    response = send(api_client_for(client_user), "POST",
                    "/api/v1/calendar/business-time-between",
                    {"account": office_account.pk, "start": start, "end": end})
    assert response.status_code == 200, response.content
    assert response.json() == {"seconds": seconds}


@pytest.mark.parametrize(("path", "body", "field"), [
    ("add-business-time", {"start": "2026-11-20T17:00:00", "hours": 2}, "start"),
    ("business-time-between", {"start": "2026-11-20T17:00:00",
                               "end": "2026-11-23T09:30:00+01:00"}, "start"),
    ("business-time-between", {"start": "2026-11-20T17:00:00+01:00",
                               "end": "2026-11-23T09:30:00"}, "end"),
    ("add-business-time", {"start": "pas une date", "hours": 2}, "start"),
    ("add-business-time", {"start": "2026-11-20T17:00:00+01:00", "hours": -1}, "hours"),
    ("add-business-time", {"start": "2026-11-20T17:00:00+01:00"}, "hours"),
])
def test_business_time_invalid_input_is_422(api_client_for: Any, agent: Any,
                                            office_account: Any, path: str,
                                            body: dict[str, Any], field: str) -> None:
    response = send(api_client_for(agent), "POST", f"/api/v1/calendar/{path}",
                    {"account": office_account.pk, **body})
    assert field in assert_json_error(response, 422)["errors"]


@pytest.mark.parametrize("path", ["add-business-time", "business-time-between"])
def test_business_time_on_unknown_or_invisible_account_is_404(
        api_client_for: Any, agent: Any, other_account: Any, path: str) -> None:
    client = api_client_for(agent)
    body = {"start": "2026-11-20T17:00:00+01:00", "end": "2026-11-23T09:30:00+01:00",
            "hours": 1}
    for account_id in (999999, other_account.pk):
        response = send(client, "POST", f"/api/v1/calendar/{path}",
                        {"account": account_id, **body})
        assert assert_json_error(response, 404)["code"] == "not_found"


def test_business_time_follows_an_edited_calendar(api_client_for: Any, admin_user: Any,
                                                  office_account: Any) -> None:
    client = api_client_for(admin_user)
    payload = {"account": office_account.pk, "start": "2026-11-20T17:00:00+01:00", "hours": 2}
    url = "/api/v1/calendar/add-business-time"
    assert send(client, "POST", url, payload).json()["due"] == "2026-11-23T09:30:00+01:00"
    send(client, "PUT", f"/api/v1/accounts/{office_account.pk}/calendar",
         {"weekly": {**WEEKLY, "sat": [["09:00", "12:00"]]}, "holidays": "FR"})
    assert send(client, "POST", url, payload).json()["due"] == "2026-11-21T10:00:00+01:00"


# --- OpenAPI -----------------------------------------------------------------------------------


def test_openapi_schema_lists_the_endpoints() -> None:
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    expected = {
        "/api/v1/me": {"get"},
        "/api/v1/accounts": {"get", "post"},
        "/api/v1/accounts/{account_id}": {"get", "patch"},
        "/api/v1/accounts/{account_id}/calendar": {"get", "put"},
        "/api/v1/calendar/add-business-time": {"post"},
        "/api/v1/calendar/business-time-between": {"post"},
    }
    for path, methods in expected.items():
        assert path in paths, path
        assert methods <= set(paths[path]), (path, set(paths[path]))
    security = response.json()["components"]["securitySchemes"]
    assert any(s.get("scheme") == "bearer" for s in security.values())


# --- Browser session instead of a token ---------------------------------------------------------


def test_session_auth_applies_the_same_rules(agent: Any, account: Any,
                                             other_account: Any) -> None:
    client = Client()
    client.force_login(agent, backend="django.contrib.auth.backends.ModelBackend")
    assert ids(client.get("/api/v1/accounts")) == {account.pk}
    assert_json_error(client.get(f"/api/v1/accounts/{other_account.pk}"), 404)


def test_session_write_without_csrf_token_is_refused(supervisor: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(supervisor, backend="django.contrib.auth.backends.ModelBackend")
    response = send(client, "POST", "/api/v1/accounts", {"name": "Sans CSRF"})
    assert response.status_code in (401, 403), response.content
    assert not ClientAccount.objects.filter(name="Sans CSRF").exists()


def test_session_of_a_deactivated_user_is_refused(agent: Any) -> None:
    client = Client()
    client.force_login(agent, backend="django.contrib.auth.backends.ModelBackend")
    agent.is_active = False
    agent.save(update_fields=["is_active"])
    assert_json_error(client.get("/api/v1/me"), 401)
