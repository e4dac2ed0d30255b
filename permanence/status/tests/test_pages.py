"""The public status page, the announcements, and the incident log in the back-office."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from permanence.audit.models import AuditEvent
from permanence.core import clock
from permanence.status.demo import seed_status
from permanence.status.models import Channel, ChannelDay, Incident, IncidentUpdate
from permanence.status.selectors import announced_incidents
from permanence.status.services import samples_record


def _incident(**extra: Any) -> Incident:
    now = clock.now()
    data = {"title": "Passerelle e-mail ralentie", "channels": [Channel.EMAIL],
            "kind": Incident.Kind.INCIDENT, "severity": Incident.Severity.DEGRADED,
            "starts_at": now - timedelta(hours=1), "ends_at": None,
            "created_at": now, "updated_at": now} | extra
    return Incident.objects.create(**data)


def test_the_page_is_public_and_survives_an_empty_database(client: Client, db: Any) -> None:
    response = client.get("/statut/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "État des services" in page
    assert "Pas de mesure récente" in page and "pas encore de mesure" in page
    assert "Aucune intervention planifiée." in page


def test_states_from_samples_and_incidents(client: Client, db: Any) -> None:
    samples_record({c: True for c in Channel.values})
    samples_record({Channel.CHAT: False})
    _incident()  # e-mail degraded
    _incident(title="Maintenance de la téléphonie", channels=[Channel.TELEPHONY],
              kind=Incident.Kind.MAINTENANCE, planned=True)
    page = client.get("/statut/").content.decode()
    assert 'state state-degraded' in page  # e-mail
    assert 'state state-maintenance' in page  # telephony
    assert 'state state-unavailable' in page  # chat: its last sample failed
    assert 'state state-operational' in page  # web, payments
    assert "Passerelle e-mail ralentie" in page and "En cours" in page
    assert "100.00 %" in page or "100,00 %" in page


def test_figures_timeline_past_and_planned(client: Client, db: Any) -> None:
    now = clock.now()
    yesterday = timezone.localdate(now) - timedelta(days=1)
    ChannelDay.objects.create(channel=Channel.WEB, day=yesterday, minutes_observed=1440,
                              minutes_up=1430, last_at=now, last_up=True)
    past = _incident(title="Coupure du site", channels=[Channel.WEB],
                     starts_at=now - timedelta(days=5), ends_at=now - timedelta(days=5, hours=-1),
                     internal_notes="Secret : disque plein")
    IncidentUpdate.objects.create(incident=past, at=now - timedelta(days=5), text="Corrigé.")
    _incident(title="Mise à jour de la base", channels=[Channel.WEB],
              kind=Incident.Kind.MAINTENANCE, planned=True,
              starts_at=now + timedelta(days=6), ends_at=now + timedelta(days=6, hours=1))
    _incident(title="Interne seulement", public=False)
    page = client.get("/statut/").content.decode()
    assert "99,30 %" in page or "99.30 %" in page
    assert "Coupure du site" in page and "Corrigé." in page
    assert "Mise à jour de la base" in page
    assert "Secret" not in page and "Interne seulement" not in page
    assert page.count("<rect") == 90 * len(Channel.values)


def test_english_through_the_language_switch(client: Client, db: Any) -> None:
    _incident(title="Panne", title_en="Outage", description="Lenteurs",
              description_en="Slowness")
    client.post("/i18n/setlang/", {"language": "en", "next": "/statut/"})
    page = client.get("/statut/").content.decode()
    assert "Outage" in page and "Slowness" in page


def test_query_count_does_not_grow_with_incidents(client: Client, db: Any,
                                                  django_assert_max_num_queries: Any) -> None:
    samples_record({c: True for c in Channel.values})
    past = _incident(ends_at=clock.now() - timedelta(minutes=1),
                     starts_at=clock.now() - timedelta(hours=2))
    IncidentUpdate.objects.create(incident=past, at=clock.now(), text="Suivi")
    with CaptureQueriesContext(connection) as few:
        assert client.get("/statut/").status_code == 200
    for n in range(20):
        done = _incident(title=f"Incident {n}", starts_at=clock.now() - timedelta(days=n + 1),
                         ends_at=clock.now() - timedelta(days=n + 1, minutes=-30))
        IncidentUpdate.objects.create(incident=done, at=clock.now(), text=f"Étape {n}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get("/statut/").content.decode()
    assert "Incident 19" in page and "Étape 19" in page


# Committed rows: the thread that changed an incident in its open transaction reads around
# the cache until the transaction ends (core.local_cache), so this test commits.
@pytest.mark.django_db(transaction=True)
def test_announcements_of_ongoing_and_upcoming_incidents(
        client: Client, django_assert_num_queries: Any) -> None:
    now = clock.now()
    _incident(title="Maintenance mardi", kind=Incident.Kind.MAINTENANCE, planned=True,
              starts_at=now + timedelta(days=3), ends_at=now + timedelta(days=3, hours=2))
    _incident(title="Dans deux semaines", starts_at=now + timedelta(days=14),
              ends_at=now + timedelta(days=14, hours=1))
    _incident(title="Terminé", starts_at=now - timedelta(days=2), ends_at=now - timedelta(days=1))
    _incident(title="Non publié", public=False)
    home = client.get("/").content.decode()
    assert "Maintenance mardi" in home and "/statut/" in home
    assert "Dans deux semaines" not in home and "Terminé" not in home
    assert "Non publié" not in home
    assert [i.title for i in announced_incidents()] == ["Maintenance mardi"]
    with django_assert_num_queries(0):  # cached: no query on every page
        announced_incidents()
    _incident(title="Panne en cours")  # a save empties the cache at once
    assert {i.title for i in announced_incidents()} == {"Maintenance mardi", "Panne en cours"}


def _form(**extra: Any) -> dict[str, Any]:
    return {"kind": "incident", "title": "Téléphonie indisponible",
            "description": "Les événements d'appels n'arrivent plus.",
            "channels": ["telephony"], "severity": "unavailable",
            "starts_at": "2027-03-09T10:00", "ends_at": "", "public": "on"} | extra


@pytest.mark.parametrize("user_fixture", ["admin_user", "supervisor"])
def test_back_office_crud_is_audited(client: Client, request: Any, user_fixture: str) -> None:
    user = request.getfixturevalue(user_fixture)
    client.force_login(user)
    assert client.get("/app/incidents/").status_code == 200
    assert client.get("/app/incidents/nouveau/").status_code == 200
    response = client.post("/app/incidents/nouveau/", _form())
    assert response.status_code == 302
    incident = Incident.objects.get()
    assert incident.created_by == user and incident.ends_at is None
    assert incident.channels == ["telephony"]
    assert AuditEvent.objects.filter(target_type="status.incident", action="create").exists()
    response = client.post(f"/app/incidents/{incident.pk}/", _form(ends_at="2027-03-09T11:00"))
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.ends_at is not None
    assert AuditEvent.objects.filter(target_type="status.incident", action="update").exists()
    response = client.post(f"/app/incidents/{incident.pk}/suivi/",
                           {"text": "Rétabli à 11 h.", "text_en": "Restored at 11."})
    assert response.status_code == 302
    assert incident.updates.get().text == "Rétabli à 11 h."
    assert AuditEvent.objects.filter(target_type="status.incidentupdate").exists()
    detail = client.get(f"/app/incidents/{incident.pk}/").content.decode()
    assert "Rétabli à 11 h." in detail
    assert "Téléphonie indisponible" in client.get("/app/incidents/").content.decode()
    assert client.post(f"/app/incidents/{incident.pk}/supprimer/").status_code == 302
    assert not Incident.objects.exists()
    assert AuditEvent.objects.filter(target_type="status.incident", action="delete").exists()


@pytest.mark.parametrize("data", [
    {"title": ""},
    {"channels": []},
    {"channels": ["fax"]},
    {"kind": "inconnu"},
    {"severity": "terrible"},
    {"starts_at": "hier"},
    {"starts_at": "99999-01-01T00:00"},
    {"ends_at": "2027-03-09T09:00"},  # before the start
])
def test_bad_input_gives_field_errors_never_a_500(client: Client, admin_user: Any,
                                                  data: dict[str, Any]) -> None:
    client.force_login(admin_user)
    response = client.post("/app/incidents/nouveau/", _form(**data))
    assert response.status_code == 400
    assert 'class="error"' in response.content.decode()
    assert not Incident.objects.exists()


def test_an_empty_timeline_entry_is_a_field_error(client: Client, admin_user: Any) -> None:
    incident = _incident()
    client.force_login(admin_user)
    response = client.post(f"/app/incidents/{incident.pk}/suivi/", {"text": "  "})
    assert response.status_code == 400
    assert not IncidentUpdate.objects.exists()


def test_agents_billing_and_clients_are_refused(client: Client, agent: Any, billing: Any,
                                                client_user: Any) -> None:
    incident = _incident()
    for user in (agent, billing, client_user):
        client.force_login(user)
        for url in ("/app/incidents/", "/app/incidents/nouveau/",
                    f"/app/incidents/{incident.pk}/"):
            assert client.get(url).status_code == 403
            assert client.post(url, _form()).status_code == 403
        for url in (f"/app/incidents/{incident.pk}/suivi/",
                    f"/app/incidents/{incident.pk}/supprimer/"):
            assert client.post(url, {"text": "x"}).status_code == 403
    assert Incident.objects.count() == 1 and not IncidentUpdate.objects.exists()
    assert not AuditEvent.objects.filter(target_type="status.incident").exists()


def test_demo_data_shows_figures_and_is_idempotent(client: Client, db: Any) -> None:
    first = seed_status()
    assert first == 3 + 1 + 90 * len(Channel.values)
    assert seed_status() == 0
    page = client.get("/statut/").content.decode()
    assert "Réception des e-mails interrompue" in page
    assert "Mise à jour du serveur de base de données" in page
    assert "pas encore de mesure" not in page
