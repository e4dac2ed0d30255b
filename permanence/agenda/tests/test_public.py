"""The public booking page and the contact's manage link, through Django's test client."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from permanence.agenda import services
from permanence.agenda.forms_public import CONSENT_TEXT
from permanence.agenda.models import Appointment, AppointmentStatus, Origin
from permanence.core import clock
from permanence.core.consent import text_version

from .conftest import paris

pytestmark = pytest.mark.django_db

SITE = "https://permanence.example.fr"
PAGE = "/rdv/cabinet-martin/"
NOW = paris(2027, 2, 26, 18)  # a Friday evening; Monday 1 March 2027 is open
MONDAY_9 = "2027-03-01T08:00:00Z"  # 09:00 in Paris
MONDAY_9_LINK = "start=2027-03-01T08%3A00%3A00Z"


@pytest.fixture(autouse=True)
def _site(settings: Any) -> None:
    settings.SITE_URL = SITE
    settings.ALLOWED_HOSTS = ["testserver", "permanence.example.fr"]


@pytest.fixture
def online(account: Any, supervisor: Any, kind: Any) -> Any:
    return services.settings_update(actor=supervisor, account_id=account.pk, data={
        "online_booking": True, "public_intro": "Bienvenue au cabinet du Dr Martin."})


@pytest.fixture
def frozen() -> Any:
    with clock.frozen(NOW):
        yield NOW


def form_data(kind: Any, **extra: Any) -> dict[str, Any]:
    return {"type": kind.pk, "start": MONDAY_9, "name": "Jeanne Dupont",
            "email": "jeanne@example.org", "phone": "06 12 34 56 78",
            "q0": "Renouvellement d'ordonnance", "consent": "on", **extra}


def book_online(kind: Any, start: Any = None) -> Appointment:
    return services.appointment_book(
        actor=None, kind=kind, start=start or paris(2027, 3, 1, 9),
        booking=services.Booking(contact=services.Contact(name="Jeanne", email="j@example.org"),
                                 answers={"Motif de la visite": "Contrôle"},
                                 origin=Origin.ONLINE))


def test_unknown_or_disabled_page_is_404(client: Client, account: Any, kind: Any) -> None:
    assert client.get(PAGE).status_code == 404  # no settings: online booking is off
    assert client.get("/rdv/inconnu/").status_code == 404
    assert client.get(PAGE + "creneaux/?type=1").status_code == 404


def test_the_booking_journey(client: Client, online: Any, kind: Any, frozen: Any,
                             django_capture_on_commit_callbacks: Any) -> None:
    page = client.get(PAGE)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Bienvenue au cabinet du Dr Martin." in html and "Consultation" in html
    assert "30 minutes" in html

    slots = client.get(PAGE, {"type": kind.pk}).content.decode()
    assert "lundi 1 mars" in slots and ">09:00<" in slots and "09:40" in slots
    assert "Semaine suivante" in slots and MONDAY_9_LINK in slots

    fragment = client.get(PAGE + "creneaux/", {"type": kind.pk, "du": "2027-03-08"})
    assert fragment.status_code == 200
    assert "<html" not in fragment.content.decode()
    assert "lundi 8 mars" in fragment.content.decode()

    form = client.get(PAGE, {"type": kind.pk, "start": MONDAY_9})
    text = form.content.decode()
    assert form.status_code == 200 and "Motif de la visite" in text
    assert "J&#x27;accepte que mes données soient utilisées pour gérer ce rendez-vous" in text
    assert 'for="id_name"' in text and 'for="id_consent"' in text

    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(PAGE, form_data(kind))
    assert done.status_code == 200
    appointment = Appointment.objects.get()
    assert appointment.origin == Origin.ONLINE and appointment.status == "confirmed"
    assert appointment.contact_phone == "+33612345678"
    assert appointment.answers == {"Motif de la visite": "Renouvellement d'ordonnance"}
    # The consent ticked: its words, their version, when.
    assert appointment.consent_text == str(CONSENT_TEXT)
    assert appointment.consent_version == text_version(appointment.consent_text)
    assert appointment.consent_at == NOW
    link = f"{SITE}/rdv/gerer/{appointment.token}/"
    assert link in done.content.decode() and "lundi 1 mars 2027 à 09:00" in done.content.decode()
    confirmation = [m for m in mail.outbox if m.to == ["jeanne@example.org"]]
    assert len(confirmation) == 1 and link in confirmation[0].body
    # The slot is gone from the page.
    assert MONDAY_9_LINK not in client.get(PAGE, {"type": kind.pk}).content.decode()


def test_field_errors_are_shown_with_422(client: Client, online: Any, kind: Any,
                                         frozen: Any) -> None:
    response = client.post(PAGE, form_data(kind, name=" ", q0="", consent="",
                                           email="pas-un-email", phone="12"))
    assert response.status_code == 422
    form = response.context["form"]
    assert set(form.errors) >= {"name", "q0", "consent", "email", "phone"}
    html = response.content.decode()
    assert "Votre accord est nécessaire pour réserver." in html
    assert "Merci de répondre à cette question." in html
    assert not Appointment.objects.exists()


def test_a_slot_taken_meanwhile_shows_the_slots_again_with_409(
        client: Client, online: Any, kind: Any, frozen: Any) -> None:
    book_online(kind)
    response = client.post(PAGE, form_data(kind, name="Paul Durand"))
    assert response.status_code == 409
    html = response.content.decode()
    assert "vient d&#x27;être pris" in html and "start=2027-03-01T08%3A40" in html
    assert MONDAY_9_LINK not in html
    assert Appointment.objects.count() == 1
    # The form step for it says the same.
    again = client.get(PAGE, {"type": kind.pk, "start": MONDAY_9})
    assert "plus disponible" in again.content.decode()


@pytest.mark.parametrize("params", [
    {"type": "9" * 30}, {"type": "abc"}, {"type": "-3"}, {"type": "1", "du": "2027-02-30"},
    {"type": "1", "du": "x" * 500}, {"type": "1", "start": "demain"},
    {"type": "1", "start": "2027-03-01T09:00"}, {"type": "1", "agenda": "9" * 40},
    {"type": "1", "start": "9999-12-31T23:59:59-23:59"},
])
def test_garbage_in_the_address_is_4xx(client: Client, online: Any, kind: Any, frozen: Any,
                                       params: dict[str, str]) -> None:
    params = {k: (str(kind.pk) if k == "type" and v == "1" else v) for k, v in params.items()}
    assert 400 <= client.get(PAGE, params).status_code < 500
    assert 400 <= client.get(PAGE + "creneaux/", params).status_code < 500


@pytest.mark.parametrize("changes", [
    {"type": "9" * 30}, {"type": "999999"}, {"type": ""}, {"start": "n'importe quoi"},
    {"agenda": "9" * 40}, {"start": "2027-03-01T12:00:00Z"},  # lunch time: not a slot
])
def test_garbage_in_the_form_is_4xx(client: Client, online: Any, kind: Any, frozen: Any,
                                    changes: dict[str, str]) -> None:
    response = client.post(PAGE, form_data(kind, **changes))
    assert 400 <= response.status_code < 500
    assert not Appointment.objects.exists()


def test_bookings_are_rate_limited_per_ip(client: Client, online: Any, kind: Any,
                                          frozen: Any, settings: Any) -> None:
    settings.AGENDA_BOOKING_RATE_LIMIT = 1
    assert client.post(PAGE, form_data(kind)).status_code == 200
    refused = client.post(PAGE, form_data(kind, start="2027-03-01T08:40:00Z"))
    assert refused.status_code == 429 and refused["Retry-After"]
    assert Appointment.objects.count() == 1


def test_embedding_follows_the_allowed_origins(client: Client, online: Any, kind: Any,
                                               supervisor: Any, account: Any) -> None:
    plain = client.get(PAGE)
    assert plain["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in plain["Content-Security-Policy"]
    services.settings_update(actor=supervisor, account_id=account.pk, data={
        "allowed_origins": "https://cabinet-martin.fr\n  https://www.cabinet-martin.fr/ \n"
                           "javascript:alert(1)\nhttps://evil.fr; script-src *"})
    framed = client.get(PAGE, {"embed": "1"})
    # The page's own directive, kept by the site-wide policy beside its script rules.
    policy = [d.strip() for d in framed["Content-Security-Policy"].split(";")]
    assert "frame-ancestors 'self' https://cabinet-martin.fr https://www.cabinet-martin.fr" \
        in policy
    assert sum(d.startswith("frame-ancestors") for d in policy) == 1
    assert any(d.startswith("script-src 'self' 'nonce-") for d in policy)
    assert "X-Frame-Options" not in framed
    html = framed.content.decode()
    assert 'class="site-header"' not in html and 'class="site-footer"' not in html
    assert "embed=1" in html
    assert 'class="site-header"' in client.get(PAGE).content.decode()


def test_manage_link_cancels_with_confirmation(client: Client, online: Any, kind: Any,
                                               frozen: Any) -> None:
    appointment = book_online(kind)
    url = f"/rdv/gerer/{appointment.token}/"
    page = client.get(url).content.decode()
    assert "Annuler" in page and "Déplacer" in page and "lundi 1 mars 2027 à 09:00" in page
    assert "Oui, annuler le rendez-vous" in client.get(url, {"action": "annuler"}).content.decode()
    response = client.post(url, {"action": "cancel"})
    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED
    after = client.get(url).content.decode()
    assert "annulé" in after and "?action=annuler" not in after
    assert MONDAY_9_LINK in client.get(PAGE, {"type": kind.pk}).content.decode()


def test_manage_link_moves_to_another_slot(client: Client, online: Any, kind: Any,
                                           frozen: Any) -> None:
    appointment = book_online(kind)
    url = f"/rdv/gerer/{appointment.token}/"
    choices = client.get(url, {"action": "deplacer"}).content.decode()
    assert 'value="2027-03-01T13:00:00Z"' in choices  # 14:00 in Paris
    response = client.post(url, {"action": "move", "start": "2027-03-01T13:00:00Z"})
    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.start == paris(2027, 3, 1, 14) and appointment.moves.count() == 1
    bad = client.post(url, {"action": "move", "start": "2027-03-01T11:00:00Z"})  # lunch
    assert bad.status_code == 422
    assert client.post(url, {"action": "move", "start": "garbage"}).status_code == 422
    assert client.post(url, {"action": "whatever"}).status_code == 400


def test_after_the_cutoff_the_contact_is_sent_to_the_secretariat(
        client: Client, online: Any, kind: Any) -> None:
    with clock.frozen(NOW):
        appointment = book_online(kind)
    url = f"/rdv/gerer/{appointment.token}/"
    with clock.frozen(paris(2027, 3, 1, 9) - timedelta(hours=2)):
        page = client.get(url).content.decode()
        assert "appelez le secrétariat" in page
        assert "?action=annuler" not in page and "?action=deplacer" not in page
        response = client.post(url, {"action": "cancel"})
    assert response.status_code == 409
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CONFIRMED


def test_unknown_token_is_404(client: Client) -> None:
    assert client.get("/rdv/gerer/pas-un-jeton/").status_code == 404
    assert client.get("/rdv/gerer/" + "x" * 200 + "/").status_code == 404
    assert client.post("/rdv/gerer/pas-un-jeton/", {"action": "cancel"}).status_code == 404


def test_booking_page_queries_do_not_grow_with_appointments(
        client: Client, online: Any, kind: Any, agent: Any, frozen: Any,
        django_assert_max_num_queries: Any) -> None:
    book_online(kind)
    with django_assert_max_num_queries(8) as one:
        assert client.get(PAGE, {"type": kind.pk}).status_code == 200
    for day in (1, 2, 3, 4):
        for hour in (10, 11, 14, 15, 16):
            services.appointment_book(
                actor=agent, kind=kind, start=paris(2027, 3, day, hour),
                booking=services.Booking(contact=services.Contact(name=f"P{day}{hour}")))
    with django_assert_max_num_queries(8) as many:
        assert client.get(PAGE, {"type": kind.pk}).status_code == 200
    assert len(many.captured_queries) == len(one.captured_queries)
