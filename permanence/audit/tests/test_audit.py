"""The audit log: login events, append-only storage, and the admin-only audit page."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import transaction
from django.test import Client

from conftest import PASSWORD
from permanence.accounts.models import User
from permanence.audit.models import AuditEvent
from permanence.audit.services import audit_record
from permanence.core import clock

pytestmark = pytest.mark.django_db


def login(email: str, password: str, ip: str) -> Client:
    client = Client()
    client.post("/connexion/", {"username": email, "password": password}, REMOTE_ADDR=ip,
                HTTP_USER_AGENT="Navigateur de test/1.0")
    return client


# --- Authentication events --------------------------------------------------------------------

def test_successful_login_is_audited_with_ip(agent: User) -> None:
    login("Agent@Test.fr", PASSWORD, ip="203.0.113.7")
    [event] = AuditEvent.objects.filter(action=AuditEvent.Action.LOGIN)
    assert event.actor == agent
    assert event.actor_label == "agent@test.fr"
    assert event.ip == "203.0.113.7"
    assert event.user_agent == "Navigateur de test/1.0"
    assert event.path == "/connexion/"
    assert (event.target_type, event.target_id) == ("accounts.user", str(agent.pk))
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.LOGIN_FAILED).exists()


def test_failed_login_is_audited_with_the_email(agent: User) -> None:
    login("agent@test.fr", "mauvais-mot-de-passe", ip="198.51.100.4")
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.LOGIN).exists()
    [event] = AuditEvent.objects.filter(action=AuditEvent.Action.LOGIN_FAILED)
    assert event.actor is None
    assert event.actor_label == "agent@test.fr"
    assert event.changes == {"email": "agent@test.fr"}
    assert event.ip == "198.51.100.4"
    assert event.target_id == str(agent.pk)
    # The password typed is never recorded.
    assert "mauvais-mot-de-passe" not in str(event.changes)


def test_failed_login_for_unknown_email_is_audited(db: Any) -> None:
    login("personne@test.fr", "x", ip="198.51.100.5")
    [event] = AuditEvent.objects.filter(action=AuditEvent.Action.LOGIN_FAILED)
    assert event.changes == {"email": "personne@test.fr"}
    assert event.target_id == ""


def test_logout_is_audited(agent: User) -> None:
    client = login(agent.email, PASSWORD, ip="203.0.113.8")
    client.post("/deconnexion/", REMOTE_ADDR="203.0.113.8")
    [event] = AuditEvent.objects.filter(action=AuditEvent.Action.LOGOUT)
    assert event.actor == agent
    assert event.ip == "203.0.113.8"


def test_service_writes_outside_a_request_have_no_ip(admin_user: User) -> None:
    event = audit_record(actor=admin_user, action=AuditEvent.Action.UPDATE, target=admin_user,
                         changes={"full_name": ["a", "b"]})
    assert event.ip is None
    assert event.path == ""


# --- Append-only ------------------------------------------------------------------------------

@pytest.fixture
def event(admin_user: User) -> AuditEvent:
    return audit_record(actor=admin_user, action=AuditEvent.Action.CREATE, target=admin_user,
                        changes={"email": admin_user.email})


def test_audit_rows_cannot_be_updated(event: AuditEvent) -> None:
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).update(action="delete")
    with pytest.raises(PermissionError):
        AuditEvent.objects.update(actor_label="effacé")
    event.action = AuditEvent.Action.DELETE
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError), transaction.atomic():
        AuditEvent.objects.bulk_update([event], ["action"])
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.action == AuditEvent.Action.CREATE
    assert stored.actor_label == "admin@test.fr"


def test_audit_rows_cannot_be_deleted(event: AuditEvent) -> None:
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_new_rows_can_still_be_appended(event: AuditEvent, admin_user: User) -> None:
    audit_record(actor=admin_user, action=AuditEvent.Action.VIEW, target=admin_user)
    assert AuditEvent.objects.count() == 2


# --- The audit page ---------------------------------------------------------------------------

@pytest.mark.parametrize("who", ["supervisor", "agent", "billing", "client_user"])
def test_audit_page_is_admin_only(request: Any, who: str) -> None:
    client = Client()
    client.force_login(request.getfixturevalue(who))
    assert client.get("/app/audit/").status_code == 403


def test_audit_page_requires_login(db: Any) -> None:
    response = Client().get("/app/audit/")
    assert response.status_code == 302
    assert response["Location"].startswith("/connexion/")


def _event_at(when: datetime, actor: User, action: str, marker: str) -> None:
    with clock.frozen(when):
        AuditEvent.objects.create(created_at=clock.now(), actor=actor, actor_label=actor.email,
                                  action=action, target_label=marker)


@pytest.fixture
def history(admin_user: User, supervisor: User, agent: User) -> None:
    # Times in UTC; Paris is UTC+1 in March.
    _event_at(datetime(2026, 3, 9, 9, 0, tzinfo=UTC), supervisor, "create", "MARQUEUR-A")
    _event_at(datetime(2026, 3, 10, 22, 30, tzinfo=UTC), agent, "update", "MARQUEUR-B")  # 23:30
    _event_at(datetime(2026, 3, 10, 23, 30, tzinfo=UTC), agent, "view", "MARQUEUR-C")  # 11th
    _event_at(datetime(2026, 3, 12, 8, 0, tzinfo=UTC), supervisor, "delete", "MARQUEUR-D")


def markers(client: Client, **params: str) -> set[str]:
    response = client.get("/app/audit/", params)
    assert response.status_code == 200
    html = response.content.decode()
    return {m for m in ("MARQUEUR-A", "MARQUEUR-B", "MARQUEUR-C", "MARQUEUR-D") if m in html}


def test_audit_page_filters(admin_user: User, history: None) -> None:
    client = Client()
    client.force_login(admin_user)
    assert markers(client) == {"MARQUEUR-A", "MARQUEUR-B", "MARQUEUR-C", "MARQUEUR-D"}
    assert markers(client, actor="SUPERVISEUR") == {"MARQUEUR-A", "MARQUEUR-D"}
    assert markers(client, action="update") == {"MARQUEUR-B"}
    assert markers(client, actor="agent@", action="view") == {"MARQUEUR-C"}
    # Date bounds are whole days in Paris time, both inclusive.
    assert markers(client, date_from="2026-03-10", date_to="2026-03-10") == {"MARQUEUR-B"}
    assert markers(client, date_from="2026-03-11") == {"MARQUEUR-C", "MARQUEUR-D"}
    assert markers(client, date_to="2026-03-09") == {"MARQUEUR-A"}
    assert markers(client, date_from="11/03/2026", date_to="11/03/2026") == {"MARQUEUR-C"}
    assert markers(client, target="marqueur-d") == {"MARQUEUR-D"}
    empty = client.get("/app/audit/", {"action": "export"})
    assert "Aucun événement ne correspond à ces filtres." in empty.content.decode()


def test_audit_page_shows_ip_of_logins(admin_user: User) -> None:
    login(admin_user.email, PASSWORD, ip="192.0.2.55")
    client = Client()
    client.force_login(admin_user)
    html = client.get("/app/audit/", {"action": "login"}).content.decode()
    assert "192.0.2.55" in html
