"""The breach register: the 72-hour clock around its boundary, the letter, validation and
isolation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client

from permanence.audit.models import AuditEvent
from permanence.core import clock
from permanence.privacy.breaches import (
    breach_create,
    information_letter,
    notification_deadline,
)
from permanence.privacy.models import Breach, BreachRisk

FOUND = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


def _breach(admin: Any, **extra: Any) -> Breach:
    data = {"title": "Courriel envoyé au mauvais destinataire",
            "description": "Un message d'un patient a été transmis à un autre cabinet.",
            "discovered_at": FOUND, "data_categories": ["sante", "identite"],
            "subject_categories": ["contact"], "people_count": 1,
            "consequences": "Divulgation d'un motif de consultation.",
            "measures": "Demande de suppression au destinataire.", "risk": BreachRisk.HIGH,
            **extra}
    with clock.frozen(FOUND + timedelta(hours=1)):
        return breach_create(actor=admin, data=data)


def test_the_72_hour_clock_around_its_boundary(db: Any, admin_user: Any) -> None:
    breach = _breach(admin_user)
    on_time = notification_deadline(breach, FOUND + timedelta(hours=71, minutes=59))
    assert not on_time.overdue and on_time.hours_left == 0
    assert on_time.due_at == FOUND + timedelta(hours=72)
    late = notification_deadline(breach, FOUND + timedelta(hours=72, minutes=1))
    assert late.overdue and not late.done
    notified = breach
    notified.notified_at = FOUND + timedelta(hours=70)
    assert notification_deadline(notified, FOUND + timedelta(days=5)).done
    assert not notification_deadline(notified, FOUND + timedelta(days=5)).overdue
    unlikely = _breach(admin_user, risk=BreachRisk.UNLIKELY)
    state = notification_deadline(unlikely, FOUND + timedelta(days=5))
    assert state.done and not state.overdue


def test_creation_is_audited_and_the_letter_is_filled(db: Any, admin_user: Any) -> None:
    breach = _breach(admin_user)
    assert AuditEvent.objects.filter(target_type="privacy.breach",
                                     target_id=str(breach.pk), action="create").exists()
    letter = information_letter(breach)
    assert "01/03/2027" in letter and "transmis à un autre cabinet" in letter
    assert "Contenu pouvant révéler des données de santé" in letter and "CNIL" in letter


def test_the_pages_show_the_clock_and_the_letter(client: Client, admin_user: Any) -> None:
    client.force_login(admin_user)
    now = clock.now()
    response = client.post("/app/confidentialite/violations/nouvelle/", {
        "title": "Perte d'un ordinateur", "description": "Ordinateur portable volé.",
        "discovered_at": (now - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        "data_categories": ["coordonnees"], "subject_categories": ["contact"],
        "people_count": "120", "risk": "risque", "status": "ouverte"})
    assert response.status_code == 302
    breach = Breach.objects.get()
    page = client.get(response["Location"]).content.decode()
    assert "heures restantes" in page and "Ordinateur portable volé." in page
    assert "Madame, Monsieur" in page
    listing = client.get("/app/confidentialite/violations/").content.decode()
    assert "Perte d&#x27;un ordinateur" in listing
    response = client.post(f"/app/confidentialite/violations/{breach.pk}/", {
        "title": breach.title, "description": breach.description,
        "discovered_at": (now - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        "notified_at": (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "risk": "risque", "status": "maitrisee"})
    assert response.status_code == 302
    breach.refresh_from_db()
    assert breach.notified_at is not None and breach.status == "maitrisee"
    assert AuditEvent.objects.filter(target_type="privacy.breach", action="update").exists()


@pytest.mark.parametrize("data", [
    {"people_count": "99999999999999999999999"},
    {"people_count": "beaucoup"},
    {"discovered_at": "hier"},
    {"data_categories": ["inconnue"]},
    {"risk": "enorme"},
    {"occurred_at": "2099-01-01T00:00"},
    {"notified_at": "2000-01-01T00:00"},
    {"title": ""},
])
def test_bad_input_gives_field_errors_never_a_500(client: Client, admin_user: Any,
                                                  data: dict[str, Any]) -> None:
    client.force_login(admin_user)
    base = {"title": "Incident", "description": "Quelque chose",
            "discovered_at": "2026-01-10T10:00", "risk": "risque", "status": "ouverte"}
    response = client.post("/app/confidentialite/violations/nouvelle/", base | data)
    assert response.status_code == 400
    assert 'class="error"' in response.content.decode()
    assert not Breach.objects.exists()


def test_supervisors_and_agents_are_refused(client: Client, supervisor: Any, agent: Any,
                                            admin_user: Any) -> None:
    breach = _breach(admin_user)
    for user in (supervisor, agent):
        client.force_login(user)
        for url in ("/app/confidentialite/violations/",
                    "/app/confidentialite/violations/nouvelle/",
                    f"/app/confidentialite/violations/{breach.pk}/"):
            assert client.get(url).status_code == 403
            assert client.post(url, {"title": "x"}).status_code == 403
    assert Breach.objects.count() == 1
