"""Consentements: the consents of the contact form, the chat, the online booking and the
checkout, read through each app's selector as one list — with the text and its version,
filters, the search by address or number, withdrawal by an executed objection, account
scoping, and a page that costs the same number of queries whatever its rows."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from permanence.agenda import services as agenda
from permanence.agenda.models import Appointment, AppointmentStatus
from permanence.channels_webform.services import webform_submit
from permanence.core import clock
from permanence.core.consent import text_version
from permanence.core.validators import normalise_phone
from permanence.inbox.models import Contact
from permanence.livechat.models import ChatSession, ChatSettings
from permanence.livechat.services import chat_start
from permanence.privacy import requests as subject_requests
from permanence.privacy.permissions import can_view_consents
from permanence.shop.consents import Accepted
from permanence.shop.models import ConsentPurpose
from testkit.shop import make_order

PAGE = "/app/confidentialite/consentements/"
FORM_TEXT = "J'accepte que mes données servent à traiter ma demande (Cabinet Martin)."


def contact_form(account: Any, email: str, phone: str = "") -> None:
    # As the form gives it: the number in E.164.
    webform_submit(account=account, kind="question", name="Jeanne Dupont", email=email,
                   phone=normalise_phone(phone) if phone else "", subject="Question", message="Bonjour", attachments=[],
                   consent_text=FORM_TEXT)


def chat(account: Any, email: str) -> ChatSession:
    settings, _created = ChatSettings.objects.get_or_create(
        account=account, defaults={"enabled": True, "allowed_origins": "https://exemple.fr",
                                   "consent_text": "J'accepte d'échanger par chat."})
    session, _token = chat_start(chat_settings=settings, origin="https://exemple.fr",
                                 name="Paul Visiteur", email=email, consent=True)
    return session


@pytest.fixture
def kind(account: Any, supervisor: Any) -> Any:
    resource = agenda.resource_create(actor=supervisor, account_id=account.pk, data={
        "name": "Dr Martin", "weekly": {"mon": [["09:00", "17:00"]]}})
    return agenda.type_create(actor=supervisor, account_id=account.pk, data={
        "name": "Consultation", "duration_minutes": 30, "online": True},
        resource_ids=[resource.pk])


def booked(kind: Any, email: str, *, consent_text: str = "J'accepte (rendez-vous).",
           n: int = 0) -> Appointment:
    """An appointment as the online booking leaves it (its consent on it). Written
    directly: the booking itself is tested in agenda/tests/test_public.py."""
    start = clock.now() + timedelta(days=2, hours=n)
    return Appointment.objects.create(
        account_id=kind.account_id, resource=kind.resources.first(), type=kind, start=start,
        end=start + timedelta(minutes=30), block_start=start,
        block_end=start + timedelta(minutes=30), status=AppointmentStatus.CONFIRMED,
        uid=f"{secrets.token_hex(8)}@test", contact_name="Luc Patient", contact_email=email,
        contact_phone="+33612345678", consent_text=consent_text,
        consent_version=text_version(consent_text), consent_at=clock.now(),
        created_at=clock.now(), updated_at=clock.now())


def ordered(account: Any) -> Any:
    return make_order(account, accepted=[
        Accepted(ConsentPurpose.TERMS, "2026-11", "J'ai lu et j'accepte les CGV."),
        Accepted(ConsentPurpose.PRIVACY, text_version("notice"), "J'ai pris connaissance.")])


def rows_of(response: Any) -> list[Any]:
    assert response.status_code == 200, response.content[:500]
    return list(response.context["rows"])


@pytest.fixture
def world(account: Any, other_account: Any, kind: Any) -> dict[str, Any]:
    contact_form(account, "jeanne@exemple.fr", "06 12 34 56 78")
    chat(account, "paul@exemple.fr")
    booked(kind, "luc@exemple.fr")
    ordered(account)
    contact_form(other_account, "autre@exemple.fr")
    return {}


def test_every_source_is_listed_with_its_text_and_version(client: Client, admin_user: Any,
                                                          world: Any, account: Any) -> None:
    client.force_login(admin_user)
    rows = rows_of(client.get(PAGE))
    by_source = {}
    for row in rows:
        by_source.setdefault(row.source, []).append(row)
    assert {k: len(v) for k, v in by_source.items()} == {
        "formulaire": 2, "chat": 1, "rdv": 1, "commande": 2}
    form = next(r for r in by_source["formulaire"] if r.account_id == account.pk)
    assert (form.email, form.phone, form.text) == ("jeanne@exemple.fr", "+33612345678",
                                                   FORM_TEXT)
    assert form.version == text_version(FORM_TEXT) and form.account == account.name
    (session,) = by_source["chat"]
    assert session.text == "J'accepte d'échanger par chat."
    assert session.version == text_version(session.text)
    assert {r.purpose for r in by_source["commande"]} == {
        "Conditions générales de vente", "Politique de confidentialité"}
    cgv = next(r for r in by_source["commande"] if r.version == "2026-11")
    assert cgv.terms_url == "/cgv/2026-11/" and not cgv.withdrawable
    assert [r.at for r in rows] == sorted((r.at for r in rows), reverse=True)
    page = client.get(PAGE).content.decode()
    assert text_version(FORM_TEXT) in page and "Politique de confidentialité" in page


def test_filters_by_source_and_account_and_search_by_address_or_number(
        client: Client, supervisor: Any, world: Any, account: Any,
        other_account: Any) -> None:
    client.force_login(supervisor)
    assert {r.source for r in rows_of(client.get(PAGE, {"source": "chat"}))} == {"chat"}
    only = rows_of(client.get(PAGE, {"account": other_account.pk}))
    assert [r.email for r in only] == ["autre@exemple.fr"]
    assert [r.source for r in rows_of(client.get(PAGE, {"q": " Jeanne@Exemple.fr "}))] == [
        "formulaire"]
    # The same number however it is written: the form's and the booking's.
    assert {r.source for r in rows_of(client.get(PAGE, {"q": "+33 6 12 34 56 78"}))} == {
        "formulaire", "rdv"}
    assert rows_of(client.get(PAGE, {"q": "nobody@exemple.fr"})) == []


def test_bad_filters_are_a_400_naming_the_problem(client: Client, admin_user: Any,
                                                  world: Any) -> None:
    client.force_login(admin_user)
    for params, field in (({"q": "pas un numéro"}, "q"), ({"source": "fax"}, "source"),
                          ({"account": "abc"}, "account"), ({"account": "99999999"}, "account")):
        response = client.get(PAGE, params)
        assert response.status_code == 400, params
        assert field in response.context["form"].errors
        assert response.context["rows"] == []


def test_an_agent_sees_only_the_assigned_accounts(client: Client, agent: Any,
                                                  other_agent: Any, world: Any,
                                                  account: Any, other_account: Any) -> None:
    client.force_login(agent)
    assert {r.account_id for r in rows_of(client.get(PAGE))} == {account.pk}
    # Another account's id is not a choice: refused, nothing shown.
    assert client.get(PAGE, {"account": other_account.pk}).status_code == 400
    assert "autre@exemple.fr" not in client.get(PAGE, {"account": other_account.pk}).content.decode()
    client.force_login(other_agent)
    assert [r.email for r in rows_of(client.get(PAGE))] == ["autre@exemple.fr"]


def test_billing_and_clients_are_refused(client: Client, billing: Any,
                                         client_user: Any) -> None:
    for user in (billing, client_user):
        client.force_login(user)
        assert client.get(PAGE).status_code == 403


def test_an_executed_objection_marks_the_consents_withdrawn(client: Client, admin_user: Any,
                                                            world: Any, account: Any) -> None:
    contact = Contact.objects.get(account=account, email="jeanne@exemple.fr")
    request = subject_requests.request_create(actor=admin_user, kind="opposition",
                                              target="contact", contact=contact)
    subject_requests.request_object(request=request, actor=admin_user)
    client.force_login(admin_user)
    rows = rows_of(client.get(PAGE))
    withdrawn = {(r.source, r.email) for r in rows if r.withdrawn_at}
    # Her form, and the booking made with her number in the same account (the same person,
    # as the exports and the erasure read it: privacy/scope.py); not the chat of another
    # address, nor the order (a contract, not a consent: « sans objet »).
    assert withdrawn == {("formulaire", "jeanne@exemple.fr"), ("rdv", "luc@exemple.fr")}
    assert all(not r.withdrawable for r in rows if r.source == "commande")
    page = client.get(PAGE).content.decode()
    assert "retiré" in page and "sans objet" in page


def test_a_page_costs_the_same_queries_whatever_its_rows(client: Client, admin_user: Any,
                                                         account: Any, kind: Any) -> None:
    client.force_login(admin_user)
    client.get(PAGE)  # the session and the caches warmed

    ctx_sql: list[str] = []

    def measured() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(PAGE)
        ctx_sql[:] = [q["sql"][:150] for q in ctx.captured_queries]
        return len(rows_of(response)), len(ctx.captured_queries)

    contact_form(account, "a@exemple.fr")
    chat(account, "b@exemple.fr")
    booked(kind, "c@exemple.fr")
    ordered(account)
    few, few_queries = measured()
    for n in range(8):
        contact_form(account, f"f{n}@exemple.fr", f"06 00 00 00 {n:02d}")
        chat(account, f"c{n}@exemple.fr")
        booked(kind, f"r{n}@exemple.fr", n=n + 1)
        ordered(account)
    many, many_queries = measured()
    assert (few, many) == (5, 45)
    assert many_queries == few_queries, ctx_sql
    # the session, the user, the accounts of the filter, the count, the page, the
    # objections; the back-office's frame: the sidebar's counters, the operator's identity
    assert few_queries == 8, "\n".join(ctx_sql)


def test_the_pager_keeps_the_filters(client: Client, admin_user: Any, account: Any,
                                     kind: Any) -> None:
    for n in range(52):
        booked(kind, f"p{n}@exemple.fr", n=n)
    client.force_login(admin_user)
    first = client.get(PAGE, {"source": "rdv"})
    assert len(rows_of(first)) == 50
    assert "source=rdv&amp;page=2" in first.content.decode()
    assert len(rows_of(client.get(PAGE, {"source": "rdv", "page": 2}))) == 2


@pytest.mark.parametrize("role", ["admin_user", "supervisor", "agent", "billing"])
def test_the_settings_card_follows_the_permission(client: Client, role: str,
                                                  request: Any) -> None:
    user = request.getfixturevalue(role)
    client.force_login(user)
    page = client.get("/app/parametres/").content.decode()
    assert (PAGE in page) == can_view_consents(user)
