"""The site editor (/app/site/): administrators only; field errors on bad input; audited."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from permanence.audit.models import AuditEvent
from permanence.catalog import services
from permanence.catalog.demo import seed_catalog
from permanence.catalog.models import Offer, PublicPage, TermsVersion
from permanence.catalog.permissions import can_manage_catalog
from permanence.core.errors import DomainError, Forbidden


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _offer_post(**overrides: Any) -> dict[str, Any]:
    data = {"slug": "forfait-test", "kind": "forfait", "name": "Forfait Test",
            "name_en": "Test plan", "monthly_price": "149,00", "one_off_price": "",
            "unit_price": "1,20", "unit": "appel", "hourly_rate": "", "included_quantity": "100",
            "included_unit": "appel", "increment_minutes": "15", "commitment_months": "0",
            "notice_days": "30", "activation_business_hours": "48", "vat_rate": "20",
            "is_published": "on", "position": "5"}
    data.update(overrides)
    return data


@pytest.mark.django_db
def test_only_administrators_manage_the_catalog(admin_user: Any, supervisor: Any, agent: Any,
                                                billing: Any, client_user: Any) -> None:
    assert can_manage_catalog(admin_user)
    for user in (supervisor, agent, billing, client_user):
        assert not can_manage_catalog(user)
        assert _client(user).get("/app/site/offres/").status_code == 403
        assert _client(user).post("/app/site/offres/nouvelle/", _offer_post()).status_code == 403
    assert not Offer.objects.exists()
    anonymous = Client().get("/app/site/")
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/connexion/")
    with pytest.raises(Forbidden):
        services.offer_save(actor=supervisor, data={"slug": "x", "kind": "forfait", "name": "X"})


@pytest.mark.django_db
def test_admin_creates_an_offer_with_french_euros(admin_user: Any) -> None:
    seed_catalog()
    sms = Offer.objects.get(slug="sms")
    response = _client(admin_user).post("/app/site/offres/nouvelle/", _offer_post(
        monthly_price="1 234,50 €", vat_rate="5,5", options=[sms.pk],
        sectors=["medical", "juridique"]))
    assert response.status_code == 302, response.content.decode()[:2000]
    offer = Offer.objects.get(slug="forfait-test")
    assert offer.monthly_price_cents == 123450
    assert offer.unit_price_cents == 120
    assert offer.vat_rate == Decimal("5.50")
    assert offer.sectors == ["medical", "juridique"]
    assert list(offer.options.all()) == [sms]
    event = AuditEvent.objects.get(action="create", target_type="catalog.offer")
    assert event.actor == admin_user
    # The edit form shows the amounts back as typed in French.
    html = _client(admin_user).get(f"/app/site/offres/{offer.pk}/").content.decode()
    assert 'value="1234,50"' in html and 'value="5,5"' in html


@pytest.mark.django_db
@pytest.mark.parametrize(("field", "value"), [
    ("monthly_price", "cent euros"), ("monthly_price", "12,345"), ("monthly_price", "-5"),
    ("unit_price", "1.2.3"), ("vat_rate", "abc"), ("vat_rate", "120"), ("vat_rate", "5,555"),
    ("slug", "Pas Un Slug"), ("kind", "inconnu"), ("included_quantity", "-1"),
    ("hourly_rate", "NaN"), ("monthly_price", "Infinity"), ("vat_rate", "sNaN"),
    ("monthly_price", "1e5"), ("vat_rate", "Infinity"),
])
def test_bad_input_is_a_field_error_not_a_500(admin_user: Any, field: str, value: str) -> None:
    response = _client(admin_user).post("/app/site/offres/nouvelle/",
                                        _offer_post(**{field: value}))
    assert response.status_code == 422
    form = response.context["form"]
    assert form.errors.get(field), form.errors
    assert not Offer.objects.exists()


@pytest.mark.django_db
def test_service_validation_errors_land_on_the_fields(admin_user: Any) -> None:
    seed_catalog()
    essentiel = Offer.objects.get(slug="essentiel")
    client = _client(admin_user)
    # Duplicate slug, included quantity without a unit, overage price without a unit.
    response = client.post("/app/site/offres/nouvelle/", _offer_post(
        slug="essentiel", included_unit="", unit=""))
    assert response.status_code == 422
    errors = response.context["form"].errors
    assert {"slug", "included_unit", "unit"} <= set(errors)
    # A plan cannot be offered as an option (the form does not even list it).
    response = client.post("/app/site/offres/nouvelle/", _offer_post(options=[essentiel.pk]))
    assert response.status_code == 422 and "options" in response.context["form"].errors
    with pytest.raises(DomainError) as exc:
        services.offer_save(actor=admin_user, data={
            "slug": "autre", "kind": "forfait", "name": "Autre", "options": [essentiel]})
    assert "options" in exc.value.fields
    # An option cannot itself have options.
    sms = Offer.objects.get(slug="sms")
    response = client.post(f"/app/site/offres/{sms.pk}/", _offer_post(
        slug="sms", kind="option", options=[Offer.objects.get(slug="mise-en-place").pk]))
    assert response.status_code == 422 and "options" in response.context["form"].errors


@pytest.mark.django_db
def test_edit_and_publish_unpublish_are_audited(admin_user: Any) -> None:
    seed_catalog()
    offer = Offer.objects.get(slug="essentiel")
    client = _client(admin_user)
    response = client.post(f"/app/site/offres/{offer.pk}/", _offer_post(
        slug="essentiel", name="Forfait Essentiel+", monthly_price="159,00",
        options=[o.pk for o in offer.options.all()]))
    assert response.status_code == 302
    offer.refresh_from_db()
    assert (offer.name, offer.monthly_price_cents) == ("Forfait Essentiel+", 15900)
    change = AuditEvent.objects.filter(action="update", target_id=str(offer.pk)).latest("pk")
    assert change.changes["monthly_price_cents"] == [14900, 15900]
    assert client.post(f"/app/site/offres/{offer.pk}/publication/",
                       {"published": "0"}).status_code == 302
    offer.refresh_from_db()
    assert not offer.is_published
    assert Client().get("/offres/essentiel/").status_code == 404
    client.post(f"/app/site/offres/{offer.pk}/publication/", {"published": "1"})
    offer.refresh_from_db()
    assert offer.is_published
    assert Client().get("/offres/essentiel/").status_code == 200


@pytest.mark.django_db
def test_editor_pages_render(admin_user: Any) -> None:
    seed_catalog()
    client = _client(admin_user)
    offer = Offer.objects.get(slug="confort")
    page = PublicPage.objects.get(slug="faq")
    terms = TermsVersion.objects.get(version="2026-11")
    for url in ("/app/site/", "/app/site/offres/", "/app/site/offres/nouvelle/",
                f"/app/site/offres/{offer.pk}/", "/app/site/pages/", "/app/site/pages/nouvelle/",
                f"/app/site/pages/{page.pk}/", "/app/site/cgv/", "/app/site/cgv/nouvelle/",
                f"/app/site/cgv/{terms.pk}/"):
        assert client.get(url).status_code == 200, url


@pytest.mark.django_db
def test_editor_offer_list_query_count_is_constant(admin_user: Any,
                                                   django_assert_max_num_queries: Any) -> None:
    seed_catalog()
    client = _client(admin_user)
    client.get("/app/site/offres/")
    with django_assert_max_num_queries(20) as first:
        client.get("/app/site/offres/")
    sms = Offer.objects.get(slug="sms")
    for i in range(15):
        Offer.objects.create(slug=f"extra-{i}", kind="forfait", name=f"Extra {i}").options.add(
            sms)
    with django_assert_max_num_queries(len(first.captured_queries)):
        assert "Extra 14" in client.get("/app/site/offres/").content.decode()


@pytest.mark.django_db
def test_admin_edits_a_public_page(admin_user: Any) -> None:
    seed_catalog()
    page = PublicPage.objects.get(slug="mentions-legales")
    client = _client(admin_user)
    response = client.post(f"/app/site/pages/{page.pk}/", {
        "slug": "mentions-legales", "title": "Mentions légales", "title_en": "Legal notice",
        "body": "## Éditeur\nNouvelle raison sociale", "body_en": "", "is_published": "on"})
    assert response.status_code == 302
    html = Client().get("/pages/mentions-legales/").content.decode()
    assert "<h2>Éditeur</h2>" in html and "Nouvelle raison sociale" in html
    page.refresh_from_db()
    assert page.updated_by == admin_user
    # Bad slug, empty title, duplicate slug: field errors.
    bad = client.post("/app/site/pages/nouvelle/", {"slug": "faq", "title": "", "body": ""})
    assert bad.status_code == 422
    assert set(bad.context["form"].errors) >= {"title"}
    dup = client.post("/app/site/pages/nouvelle/", {"slug": "faq", "title": "Doublon"})
    assert dup.status_code == 422 and "slug" in dup.context["form"].errors


@pytest.mark.django_db
def test_cgv_versioning_draft_publish_immutable(admin_user: Any) -> None:
    seed_catalog()
    client = _client(admin_user)
    # The new-version form starts from the text in force.
    assert "Droit de rétractation" in client.get("/app/site/cgv/nouvelle/").content.decode()
    response = client.post("/app/site/cgv/nouvelle/", {
        "version": "2027-01", "body": "## Article 1\nTexte 2027."})
    assert response.status_code == 302
    draft = TermsVersion.objects.get(version="2027-01")
    assert draft.published_at is None
    assert Client().get("/cgv/").content.decode().count("Version 2026-11") == 1
    # A draft can be edited...
    assert client.post(f"/app/site/cgv/{draft.pk}/", {
        "version": "2027-01", "body": "## Article 1\nTexte 2027 corrigé."}).status_code == 302
    # ... then published: it becomes current, the previous stays readable.
    assert client.post(f"/app/site/cgv/{draft.pk}/publier/").status_code == 302
    draft.refresh_from_db()
    assert draft.published_at is not None
    current = Client().get("/cgv/").content.decode()
    assert "Version 2027-01" in current and "Texte 2027 corrigé." in current
    assert Client().get("/cgv/2026-11/").status_code == 200
    # Published: immutable, through the UI and the service.
    response = client.post(f"/app/site/cgv/{draft.pk}/", {"version": "2027-01",
                                                          "body": "Changé"})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert "Changé" not in draft.body
    with pytest.raises(DomainError) as exc:
        services.terms_save(actor=admin_user, terms=draft, data={"body": "Changé"})
    assert exc.value.status == 409
    with pytest.raises(DomainError):
        services.terms_publish(actor=admin_user, terms=draft)
    assert AuditEvent.objects.filter(target_type="catalog.termsversion").count() >= 3


@pytest.mark.django_db
def test_cgv_bad_version_is_a_field_error(admin_user: Any) -> None:
    seed_catalog()
    client = _client(admin_user)
    for version in ("2026-11", "a b", "x/y", ""):
        response = client.post("/app/site/cgv/nouvelle/", {"version": version, "body": "Texte"})
        assert response.status_code == 422, version
        assert "version" in response.context["form"].errors
    empty = client.post("/app/site/cgv/nouvelle/", {"version": "2030-01", "body": ""})
    assert empty.status_code == 422 and "body" in empty.context["form"].errors


@pytest.mark.django_db
def test_seed_catalog_is_idempotent(db: Any) -> None:
    seed_catalog()
    counts = (Offer.objects.count(), PublicPage.objects.count(), TermsVersion.objects.count())
    seed_catalog()
    assert (Offer.objects.count(), PublicPage.objects.count(),
            TermsVersion.objects.count()) == counts
    essentiel = Offer.objects.get(slug="essentiel")
    assert (essentiel.monthly_price_cents, essentiel.included_quantity,
            essentiel.unit_price_cents) == (14900, 100, 120)
    assert Offer.objects.get(slug="a-l-acte").unit_price_cents == 190
    assert Offer.objects.get(slug="mise-en-place").requires_information
    assert Offer.objects.exclude(name_en="").count() == Offer.objects.count()
