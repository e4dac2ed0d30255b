"""Back-office and espace-client pages, through the Django test client."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from conftest import PASSWORD
from permanence.accounts.models import (
    ApiToken,
    ClientAccount,
    ContactChannel,
    Membership,
    OperatorIdentity,
    User,
)
from permanence.accounts.services import api_token_authenticate
from permanence.calendars.models import Announcement, BusinessCalendar
from permanence.core import clock
from testkit import files

pytestmark = pytest.mark.django_db

VALID_SIRET = "73282932000074"
# A complete 1×1 PNG.
PNG_BYTES = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def account_form_data(**overrides: Any) -> dict[str, Any]:
    data = {"name": "Pharmacie du Centre", "slug": "", "kind": "professionnel",
            "sector": "medical", "status": "prospect", "legal_name": "", "siret": "",
            "vat_number": "", "billing_address": "", "billing_email": "", "notes": ""}
    data.update(overrides)
    return data


# --- Account creation -------------------------------------------------------------------------

def test_admin_creates_account_invalid_siret_then_valid(admin_user: User, agent: User) -> None:
    client = logged_in(admin_user)
    assert client.get("/app/comptes/nouveau/").status_code == 200

    response = client.post("/app/comptes/nouveau/", account_form_data(siret="732 829 320 00075"))
    assert response.status_code == 422
    html = response.content.decode()
    assert "Numéro SIRET invalide : 14 chiffres attendus" in html
    assert 'value="732 829 320 00075"' in html  # what was typed is kept
    assert not ClientAccount.objects.exists()

    response = client.post("/app/comptes/nouveau/", account_form_data(
        siret="732 829 320 00074", assigned_agents=[agent.pk]))
    account = ClientAccount.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/app/comptes/{account.pk}/"
    assert account.slug == "pharmacie-du-centre"
    assert account.siret == VALID_SIRET
    assert list(account.assigned_agents.all()) == [agent]
    detail = client.get(response["Location"])
    assert "Compte « Pharmacie du Centre » créé." in detail.content.decode()


def test_account_create_page_forbidden_to_agent(agent: User) -> None:
    client = logged_in(agent)
    assert client.get("/app/comptes/nouveau/").status_code == 403
    assert client.post("/app/comptes/nouveau/", account_form_data()).status_code == 403
    assert not ClientAccount.objects.exists()


def test_anonymous_is_sent_to_login(db: Any) -> None:
    response = Client().get("/app/comptes/")
    assert response.status_code == 302
    assert response["Location"].startswith("/connexion/?next=/app/comptes/")


# --- Account list -----------------------------------------------------------------------------

@pytest.fixture
def many_accounts(account: ClientAccount, other_account: ClientAccount) -> ClientAccount:
    plumber = ClientAccount.objects.create(
        name="Plomberie Zola", slug="plomberie-zola", sector="artisan_btp",
        status="suspendu", kind="particulier", siret=VALID_SIRET)
    ContactChannel.objects.create(account=plumber, kind="phone", value="+33612345678")
    return plumber


def names_in(response: Any) -> set[str]:
    html = response.content.decode()
    return {n for n in ("Cabinet Martin", "Durand Avocats", "Plomberie Zola") if n in html}


def test_account_list_search_and_filters(supervisor: User, many_accounts: ClientAccount) -> None:
    client = logged_in(supervisor)
    assert names_in(client.get("/app/comptes/")) == {
        "Cabinet Martin", "Durand Avocats", "Plomberie Zola"}
    assert names_in(client.get("/app/comptes/", {"q": "durand"})) == {"Durand Avocats"}
    assert names_in(client.get("/app/comptes/", {"q": "732 829 320"})) == {"Plomberie Zola"}
    assert names_in(client.get("/app/comptes/", {"q": "612345678"})) == {"Plomberie Zola"}
    assert names_in(client.get("/app/comptes/", {"status": "actif"})) == {
        "Cabinet Martin", "Durand Avocats"}
    assert names_in(client.get("/app/comptes/", {"sector": "juridique"})) == {"Durand Avocats"}
    assert names_in(client.get("/app/comptes/", {"kind": "particulier"})) == {"Plomberie Zola"}
    empty = client.get("/app/comptes/", {"q": "introuvable", "status": "actif"})
    assert names_in(empty) == set()
    assert "Aucun compte client ne correspond." in empty.content.decode()


def test_account_list_htmx_returns_only_results(supervisor: User,
                                                many_accounts: ClientAccount) -> None:
    client = logged_in(supervisor)
    full = client.get("/app/comptes/", {"q": "zola"})
    assert "<html" in full.content.decode()
    response = client.get("/app/comptes/", {"q": "zola"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert 'id="results"' not in html and "<form" not in html
    assert "<table" in html
    assert names_in(response) == {"Plomberie Zola"}


def test_agent_sees_only_assigned_accounts(agent: User, many_accounts: ClientAccount,
                                           other_account: ClientAccount) -> None:
    client = logged_in(agent)
    assert names_in(client.get("/app/comptes/")) == {"Cabinet Martin"}
    assert names_in(client.get("/app/comptes/", {"q": "durand"})) == set()
    assert client.get(f"/app/comptes/{other_account.pk}/").status_code == 404
    assert client.get(f"/app/comptes/{many_accounts.pk}/").status_code == 404


def test_detail_shows_assigned_agents(supervisor: User, agent: User, other_agent: User,
                                      account: ClientAccount) -> None:
    agent.full_name = "Amandine Agent"
    agent.save()
    other_agent.full_name = "Bruno Agent"
    other_agent.save()
    client = logged_in(supervisor)
    html = client.get(f"/app/comptes/{account.pk}/").content.decode()
    assert "Amandine Agent" in html
    assert "Bruno Agent" not in html
    account.assigned_agents.clear()
    html = client.get(f"/app/comptes/{account.pk}/").content.decode()
    assert "Amandine Agent" not in html
    assert "Aucun télésecrétaire affecté" in html


def test_agent_detail_page_has_no_edit_controls(agent: User, account: ClientAccount) -> None:
    client = logged_in(agent)
    html = client.get(f"/app/comptes/{account.pk}/").content.decode()
    assert "Cabinet Martin" in html
    assert f"/app/comptes/{account.pk}/modifier/" not in html
    assert client.get(f"/app/comptes/{account.pk}/modifier/").status_code == 403


def test_channel_add_through_the_page_reports_owner(supervisor: User, account: ClientAccount,
                                                    other_account: ClientAccount) -> None:
    client = logged_in(supervisor)
    response = client.post(f"/app/comptes/{account.pk}/canaux/",
                           {"kind": "phone", "value": "01 23 45 67 89", "label": ""},
                           follow=True)
    assert account.channels.get().value == "+33123456789"
    assert "Canal ajouté." in response.content.decode()
    response = client.post(f"/app/comptes/{other_account.pk}/canaux/",
                           {"kind": "phone", "value": "+33 1 23 45 67 89"}, follow=True)
    assert "Déjà utilisé par le compte « Cabinet Martin »." in response.content.decode()
    assert not other_account.channels.exists()


def test_client_access_invitation_is_emailed(supervisor: User, account: ClientAccount,
                                             django_capture_on_commit_callbacks: Any) -> None:
    client = logged_in(supervisor)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/app/comptes/{account.pk}/acces-client/",
                    {"email": "Assistante@Martin.fr", "full_name": "Assistante",
                     "role": "membre"})
    membership = Membership.objects.get(user__email="assistante@martin.fr")
    assert membership.account == account
    assert [m.to for m in mail.outbox] == [["assistante@martin.fr"]]
    assert "/mot-de-passe/nouveau/" in mail.outbox[0].body


# --- Staff management -------------------------------------------------------------------------

@pytest.mark.parametrize("who", ["supervisor", "agent", "billing"])
def test_staff_pages_are_admin_only(request: Any, who: str, admin_user: User) -> None:
    client = logged_in(request.getfixturevalue(who))
    assert client.get("/app/equipe/").status_code == 403
    assert client.get("/app/equipe/nouveau/").status_code == 403
    assert client.get(f"/app/equipe/{admin_user.pk}/").status_code == 403
    response = client.post("/app/equipe/nouveau/", {"email": "x@test.fr", "full_name": "X",
                                                     "role": "admin", "is_active": "on"})
    assert response.status_code == 403
    assert not User.objects.filter(email="x@test.fr").exists()


def test_client_cannot_open_staff_pages(client_user: User) -> None:
    assert logged_in(client_user).get("/app/equipe/").status_code == 403


def test_admin_manages_staff(admin_user: User, agent: User,
                             django_capture_on_commit_callbacks: Any) -> None:
    client = logged_in(admin_user)
    listing = client.get("/app/equipe/")
    assert listing.status_code == 200
    assert agent.email in listing.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/app/equipe/nouveau/", {
            "email": "Nouvelle@Test.fr", "full_name": "Nouvelle Recrue", "phone": "",
            "role": "supervisor", "is_active": "on"})
    assert response.status_code == 302
    new = User.objects.get(email="nouvelle@test.fr")
    assert new.role == "supervisor"
    assert not new.has_usable_password()
    assert [m.to for m in mail.outbox] == [["nouvelle@test.fr"]]

    duplicate = client.post("/app/equipe/nouveau/", {
        "email": "NOUVELLE@test.fr", "full_name": "Doublon", "role": "agent", "is_active": "on"})
    assert duplicate.status_code == 422
    assert "Un utilisateur existe déjà avec cette adresse." in duplicate.content.decode()

    response = client.post(f"/app/equipe/{agent.pk}/", {
        "email": agent.email, "full_name": "Agent Désactivé", "role": "agent"})
    assert response.status_code == 302
    agent.refresh_from_db()
    assert not agent.is_active
    assert agent.full_name == "Agent Désactivé"


def test_admin_cannot_demote_self_through_the_page(admin_user: User) -> None:
    client = logged_in(admin_user)
    response = client.post(f"/app/equipe/{admin_user.pk}/", {
        "email": admin_user.email, "full_name": "Moi", "role": "agent", "is_active": "on"})
    assert response.status_code == 422
    assert "Vous ne pouvez pas retirer vos propres droits" in response.content.decode()
    admin_user.refresh_from_db()
    assert admin_user.role == "admin"


# --- Operator identity ------------------------------------------------------------------------

def operator_data(**overrides: Any) -> dict[str, Any]:
    data = {"legal_name": "Permanence SAS", "siren": "732829320", "siret": VALID_SIRET,
            "vat_number": "FR44732829320", "address": "1 rue de Lyon", "iban": "",
            "support_email": "support@permanence.test", "support_phone": "",
            "opening_hours_text": ""}
    data.update(overrides)
    return data


def test_operator_page_rejects_invalid_iban(admin_user: User) -> None:
    client = logged_in(admin_user)
    assert client.get("/app/parametres/operateur/").status_code == 200
    response = client.post("/app/parametres/operateur/",
                           operator_data(iban="FR76 3000 6000 0112 3456 7890 188"))
    assert response.status_code == 422
    assert "IBAN invalide." in response.content.decode()
    assert not OperatorIdentity.objects.exists()

    response = client.post("/app/parametres/operateur/",
                           operator_data(iban="FR76 3000 6000 0112 3456 7890 189"))
    assert response.status_code == 302
    assert OperatorIdentity.objects.get().iban == "FR7630006000011234567890189"


def test_operator_logo_checked_by_content_not_name(admin_user: User) -> None:
    client = logged_in(admin_user)
    fake = SimpleUploadedFile("logo.png", b"<svg xmlns='http://www.w3.org/2000/svg'/>",
                              content_type="image/png")
    response = client.post("/app/parametres/operateur/", {**operator_data(), "logo": fake})
    assert response.status_code == 422
    assert "Le logo doit être une image PNG ou JPEG." in response.content.decode()
    assert not OperatorIdentity.objects.exists()

    real = SimpleUploadedFile("mon logo.PNG", PNG_BYTES, content_type="image/png")
    response = client.post("/app/parametres/operateur/", {**operator_data(), "logo": real})
    assert response.status_code == 302
    identity = OperatorIdentity.objects.get()
    assert identity.logo.name.endswith(".png")
    with identity.logo.open("rb") as stored:
        assert stored.read() == PNG_BYTES


def test_operator_logo_bombs_are_refused_and_the_stored_name_follows_the_content(
        admin_user: User) -> None:
    client = logged_in(admin_user)
    bomb = SimpleUploadedFile("logo.png", files.png(20_000, 20_000), content_type="image/png")
    response = client.post("/app/parametres/operateur/", {**operator_data(), "logo": bomb})
    assert response.status_code == 422
    assert "(20000 × 20000 pixels)" in response.content.decode()
    assert not OperatorIdentity.objects.exists()
    # A real PNG named .html: accepted, stored as .png (the media server types it by name).
    disguised = SimpleUploadedFile("logo.html", PNG_BYTES, content_type="text/html")
    response = client.post("/app/parametres/operateur/", {**operator_data(), "logo": disguised})
    assert response.status_code == 302
    assert OperatorIdentity.objects.get().logo.name.endswith(".png")


@pytest.mark.parametrize("who", ["supervisor", "agent"])
def test_operator_page_is_admin_only(request: Any, who: str) -> None:
    client = logged_in(request.getfixturevalue(who))
    assert client.get("/app/parametres/operateur/").status_code == 403
    assert client.post("/app/parametres/operateur/", operator_data()).status_code == 403
    assert not OperatorIdentity.objects.exists()


# --- Profile and API tokens -------------------------------------------------------------------

TOKEN_RE = re.compile(r'<code class="token" id="new-token">(pmt_[A-Za-z0-9_-]+)</code>')


def test_profile_creates_token_shown_once_and_revokes_it(agent: User) -> None:
    client = logged_in(agent)
    response = client.post("/app/profil/", {"create_token": "", "name": "Standard"})
    assert response.status_code == 200
    match = TOKEN_RE.search(response.content.decode())
    assert match, "the raw token is shown right after creation"
    raw = match.group(1)
    token = ApiToken.objects.get(user=agent)
    assert token.name == "Standard"
    assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert api_token_authenticate(raw) == agent

    again = client.get("/app/profil/").content.decode()
    assert raw not in again
    assert f"{token.prefix}…" in again

    # Somebody else cannot revoke it.
    other = User.objects.create_user("autre@test.fr", PASSWORD, role="agent")
    assert logged_in(other).post(f"/app/jetons/{token.pk}/revoquer/").status_code == 404
    assert api_token_authenticate(raw) == agent

    response = client.post(f"/app/jetons/{token.pk}/revoquer/", {"next": "/app/profil/"})
    assert response.status_code == 302
    assert response["Location"] == "/app/profil/"
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert api_token_authenticate(raw) is None
    assert '<span class="muted">révoqué</span>' in client.get("/app/profil/").content.decode()


def test_token_revoke_does_not_redirect_off_site(agent: User) -> None:
    from permanence.accounts.services import api_token_create

    token, _raw = api_token_create(actor=agent, user=agent, name="x")
    response = logged_in(agent).post(f"/app/jetons/{token.pk}/revoquer/",
                                     {"next": "https://evil.example/phish"})
    assert response.status_code == 302
    assert not response["Location"].startswith("https://evil.example")


def test_client_profile_in_espace_creates_token(client_user: User,
                                                account: ClientAccount) -> None:
    client = logged_in(client_user)
    response = client.post("/espace/profil/", {"create_token": "", "name": "Agenda"})
    match = TOKEN_RE.search(response.content.decode())
    assert match
    assert api_token_authenticate(match.group(1)) == client_user


# --- Espace client ----------------------------------------------------------------------------

def test_client_logs_in_and_lands_on_espace(client_user: User, account: ClientAccount) -> None:
    client = Client()
    response = client.post("/connexion/", {"username": "Client@Test.fr", "password": PASSWORD},
                           follow=True)
    assert response.redirect_chain[-1][0] == "/espace/"
    assert response.status_code == 200
    assert "Compte : <strong>Cabinet Martin</strong>" in response.content.decode()


def test_staff_login_lands_on_dashboard(agent: User) -> None:
    response = Client().post("/connexion/", {"username": agent.email, "password": PASSWORD},
                             follow=True)
    assert response.redirect_chain[-1][0] == "/app/"


OPTION_RE = re.compile(r'<option value="(\d+)"\s*(selected)?\s*>([^<]*)</option>')


def options_in(html: str) -> dict[int, str]:
    return {int(pk): name for pk, _sel, name in OPTION_RE.findall(html)}


def selected_option(html: str) -> int | None:
    chosen = [int(pk) for pk, sel, _name in OPTION_RE.findall(html) if sel]
    return chosen[0] if len(chosen) == 1 else None


def test_account_switcher(client_user: User, account: ClientAccount,
                          other_account: ClientAccount) -> None:
    client = logged_in(client_user)
    html = client.get("/espace/").content.decode()
    assert 'id="account-switch"' not in html  # one account: no switcher

    Membership.objects.create(user=client_user, account=other_account, role="membre")
    html = client.get("/espace/").content.decode()
    assert 'id="account-switch"' in html
    assert options_in(html) == {account.pk: "Cabinet Martin", other_account.pk: "Durand Avocats"}
    assert selected_option(html) == account.pk
    assert "Compte : <strong>Cabinet Martin</strong>" in html

    response = client.post("/espace/compte/", {"account": other_account.pk})
    assert response.status_code == 302
    assert response["Location"] == "/espace/"
    html = client.get("/espace/").content.decode()
    assert "Compte : <strong>Durand Avocats</strong>" in html
    assert selected_option(html) == other_account.pk
    # The choice sticks to the session: other pages show the same account.
    assert selected_option(client.get("/espace/factures/").content.decode()) == other_account.pk


def test_switching_to_a_foreign_account_is_404(client_user: User, account: ClientAccount,
                                               other_account: ClientAccount) -> None:
    client = logged_in(client_user)
    assert client.post("/espace/compte/", {"account": other_account.pk}).status_code == 404
    assert client.post("/espace/compte/", {"account": "abc"}).status_code == 404
    html = client.get("/espace/").content.decode()
    assert "Durand Avocats" not in html
    assert "Compte : <strong>Cabinet Martin</strong>" in html


@pytest.mark.parametrize("who", ["admin_user", "agent"])
def test_staff_cannot_open_espace(request: Any, who: str) -> None:
    client = logged_in(request.getfixturevalue(who))
    assert client.get("/espace/").status_code == 403
    assert client.get("/espace/factures/").status_code == 403


def test_client_cannot_open_back_office(client_user: User, account: ClientAccount) -> None:
    client = logged_in(client_user)
    for url in ("/app/", "/app/comptes/", f"/app/comptes/{account.pk}/", "/app/audit/"):
        assert client.get(url).status_code == 403, url


def test_espace_sections(client_user: User, account: ClientAccount) -> None:
    client = logged_in(client_user)
    assert client.get("/espace/factures/").status_code == 200
    assert client.get("/espace/nimporte-quoi/").status_code == 404


# --- Public home and announcements ------------------------------------------------------------

def test_public_home_shows_announcements_only_while_they_apply(db: Any) -> None:
    start = datetime(2026, 8, 10, 8, 0, tzinfo=UTC)
    Announcement.objects.create(title="Standard fermé le 15 août", message="Réouverture le 16.",
                                starts_at=start, ends_at=start + timedelta(days=6))
    Announcement.objects.create(title="Note réservée aux clients", starts_at=start,
                                ends_at=start + timedelta(days=6), show_public=False)
    client = Client()
    with clock.frozen(start - timedelta(minutes=1)):
        before = client.get("/")
    with clock.frozen(start + timedelta(days=1)):
        during = client.get("/")
    with clock.frozen(start + timedelta(days=6)):
        after = client.get("/")
    assert during.status_code == 200
    assert "Standard fermé le 15 août" in during.content.decode()
    assert "Réouverture le 16." in during.content.decode()
    assert "Note réservée aux clients" not in during.content.decode()
    for response in (before, after):
        assert response.status_code == 200
        assert "Standard fermé le 15 août" not in response.content.decode()


def test_espace_shows_portal_announcements(client_user: User, account: ClientAccount) -> None:
    start = datetime(2026, 8, 10, 8, 0, tzinfo=UTC)
    Announcement.objects.create(title="Note réservée aux clients", starts_at=start,
                                ends_at=start + timedelta(days=6), show_public=False)
    client = logged_in(client_user)
    with clock.frozen(start + timedelta(hours=1)):
        assert "Note réservée aux clients" in client.get("/espace/").content.decode()
    with clock.frozen(start + timedelta(days=7)):
        assert "Note réservée aux clients" not in client.get("/espace/").content.decode()


# --- Business calendar page -------------------------------------------------------------------

def calendar_data(**days: str) -> dict[str, str]:
    data = {"timezone": "Europe/Paris", "holidays": "FR", "save_hours": ""}
    for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"):
        data[day] = days.get(day, "")
    return data


def test_calendar_page_get_and_bad_slot(supervisor: User, account: ClientAccount) -> None:
    client = logged_in(supervisor)
    url = f"/app/comptes/{account.pk}/calendrier/"
    response = client.get(url)
    assert response.status_code == 200
    assert 'value="08:30-12:30, 14:00-18:00"' in response.content.decode()  # default hours

    response = client.post(url, calendar_data(mon="25:00-26:00", tue="09:00-12:00"))
    assert response.status_code == 422
    html = response.content.decode()
    assert "Heure de début invalide : « 25:00 »" in html
    account.refresh_from_db()
    assert account.calendar_id is None
    assert not BusinessCalendar.objects.exists()


def test_calendar_page_saves_valid_hours(supervisor: User, account: ClientAccount) -> None:
    client = logged_in(supervisor)
    url = f"/app/comptes/{account.pk}/calendrier/"
    response = client.post(url, calendar_data(mon="09:00-12:00, 14:00-17:30", sat="09:00-12:00"))
    assert response.status_code == 302
    account.refresh_from_db()
    weekly = account.calendar.weekly
    assert weekly["mon"] == [["09:00", "12:00"], ["14:00", "17:30"]]
    assert weekly["sat"] == [["09:00", "12:00"]]
    assert weekly["tue"] == []
    assert 'value="09:00-12:00, 14:00-17:30"' in client.get(url).content.decode()


def test_agent_may_view_but_not_edit_calendar(agent: User, account: ClientAccount,
                                              other_account: ClientAccount) -> None:
    client = logged_in(agent)
    url = f"/app/comptes/{account.pk}/calendrier/"
    assert client.get(url).status_code == 200
    assert client.post(url, calendar_data(mon="09:00-12:00")).status_code == 403
    account.refresh_from_db()
    assert account.calendar_id is None
    assert client.get(f"/app/comptes/{other_account.pk}/calendrier/").status_code == 404
