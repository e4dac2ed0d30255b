"""The public site: offers and comparison, live price, sectors, service client, CGV, pages."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.test import Client

from permanence.catalog.demo import seed_catalog
from permanence.catalog.models import Offer, OfferKind, PublicPage, TermsVersion
from permanence.catalog.text import render_text
from permanence.core import clock

PARIS = ZoneInfo("Europe/Paris")


def english() -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def catalog(db: Any) -> dict[str, Offer]:
    seed_catalog()
    return {o.slug: o for o in Offer.objects.all()}


# --- Pages render for anonymous visitors ---------------------------------------------------------

PUBLIC_URLS = ["/", "/offres/", "/offres/essentiel/", "/offres/essentiel/prix/",
               "/offres/mise-en-place/", "/secteurs/", "/secteurs/medical/",
               "/secteurs/juridique/", "/secteurs/artisan_btp/", "/secteurs/ecommerce/",
               "/service-client/", "/cgv/", "/cgv/2026-11/", "/pages/mentions-legales/",
               "/pages/confidentialite/", "/pages/faq/"]


@pytest.mark.django_db
@pytest.mark.parametrize("url", PUBLIC_URLS)
def test_public_pages_render_for_anonymous_visitors_in_french(catalog: Any, url: str) -> None:
    response = Client().get(url)
    assert response.status_code == 200, url
    assert response["Content-Language"] == "fr"


@pytest.mark.django_db
@pytest.mark.parametrize("url", PUBLIC_URLS)
def test_public_pages_render_in_english(catalog: Any, url: str) -> None:
    response = english().get(url)
    assert response.status_code == 200, url
    assert response["Content-Language"] == "en"


@pytest.mark.django_db
def test_english_visitors_get_the_english_names_and_texts(catalog: Any) -> None:
    html = english().get("/offres/").content.decode()
    assert "Essential plan" in html and "Forfait Essentiel" not in html
    assert "€149.00" in html  # amounts in the English format
    page = english().get("/pages/faq/").content.decode()
    assert "How long does it take to start?" in page
    # A page without an English text falls back to French rather than showing nothing.
    legal = english().get("/pages/mentions-legales/").content.decode()
    assert "Permanence Télésecrétariat SAS" in legal


@pytest.mark.django_db
def test_navigation_and_footer_links(catalog: Any) -> None:
    html = Client().get("/").content.decode()
    for href in ('href="/offres/"', 'href="/secteurs/"', 'href="/service-client/"',
                 'href="/devis/demande/"', 'href="/contact/"', 'href="/connexion/"',
                 'href="/cgv/"', 'href="/pages/mentions-legales/"',
                 'href="/pages/confidentialite/"'):
        assert href in html, href


@pytest.mark.django_db
def test_home_shows_editable_text_and_featured_plan(catalog: Any) -> None:
    PublicPage.objects.filter(slug="accueil").update(title="Bienvenue chez nous",
                                                     body="Un texte <b>modifiable</b>.")
    html = Client().get("/").content.decode()
    assert "Bienvenue chez nous" in html
    assert "Un texte &lt;b&gt;modifiable&lt;/b&gt;." in html  # escaped, never raw HTML
    assert "Forfait Confort" in html  # the featured plan


# --- Offers, comparison table, live price ----------------------------------------------------------

@pytest.mark.django_db
def test_comparison_table_lists_plans_side_by_side_with_ht_and_ttc(catalog: Any) -> None:
    html = Client().get("/offres/").content.decode()
    table = html[html.index('class="table compare"'):html.index("</table>")]
    for name in ("Forfait Essentiel", "Forfait Confort", "Forfait Premium", "À l&#x27;acte",
                 "Au temps passé", "Hybride"):
        assert name in table, name
    assert "149,00\u00a0€" in table and "178,80\u00a0€" in table  # HT and TTC
    assert "100 appels" in table  # included quantity
    assert "1,20\u00a0€" in table  # overage
    assert "1,90\u00a0€" in table  # à l'acte
    assert "38,00\u00a0€" in table and "par tranche de 15 min" in table  # au temps passé
    assert "sans engagement" in table and "12 mois" in table  # commitment
    assert "30 jours" in table and "60 jours" in table  # notice
    assert "sous 48 heures ouvrées" in table and "sous 72 heures ouvrées" in table
    assert "Prise de messages détaillés" in table  # what's included
    # Options are not plans: listed below the table, not as columns.
    assert "Notification SMS" not in table and "Notification SMS" in html


@pytest.mark.django_db
def test_offer_amounts_show_ht_and_ttc(catalog: Any) -> None:
    html = Client().get("/offres/essentiel/").content.decode()
    assert "149,00\u00a0€ HT / mois — 178,80\u00a0€ TTC" in html


@pytest.mark.django_db
def test_unpublished_offer_is_not_shown(catalog: Any) -> None:
    Offer.objects.filter(slug="premium").update(is_published=False)
    assert "Forfait Premium" not in Client().get("/offres/").content.decode()
    assert Client().get("/offres/premium/").status_code == 404
    assert Client().get("/offres/premium/prix/").status_code == 404


@pytest.mark.django_db
def test_plan_page_has_options_chooser_and_add_to_cart_form(catalog: Any) -> None:
    html = Client().get("/offres/essentiel/").content.decode()
    assert 'action="/panier/ajouter/"' in html and 'method="post"' in html
    assert 'name="offer" value="essentiel"' in html
    assert 'name="options" value="sms"' in html
    assert 'name="options" value="prise-de-rendez-vous"' in html
    assert 'name="quantity"' in html
    assert 'hx-get="/offres/essentiel/prix/"' in html


@pytest.mark.django_db
def test_live_price_partial_adds_options_server_side(catalog: Any) -> None:
    base = Client().get("/offres/essentiel/prix/").content.decode()
    assert "149,00\u00a0€" in base and "178,80\u00a0€" in base
    # + prise de rendez-vous (29 €/month) + mise en place (99 € once) + accueil (19 €/m + 49 €)
    response = Client().get("/offres/essentiel/prix/", {
        "options": ["prise-de-rendez-vous", "mise-en-place", "accueil-personnalise"]})
    html = response.content.decode()
    assert response.status_code == 200
    upfront = 14900 + 2900 + 9900 + 1900 + 4900  # 345,00 € HT → 414,00 € TTC
    assert upfront == 34500
    assert "345,00\u00a0€" in html and "414,00\u00a0€" in html
    monthly = 14900 + 2900 + 1900  # 197,00 € HT → 236,40 € TTC
    assert monthly == 19700
    assert "197,00\u00a0€" in html and "236,40\u00a0€" in html
    # Quantity multiplies, totals through core/money.
    two = Client().get("/offres/essentiel/prix/", {"quantity": "2"}).content.decode()
    assert "298,00\u00a0€" in two and "357,60\u00a0€" in two
    # Options count once, as the cart adds them (quantity 1).
    with_option = Client().get("/offres/essentiel/prix/", {
        "quantity": "2", "options": "transfert-appel"}).content.decode()
    assert "313,00\u00a0€" in with_option  # 2 × 149 + 15


@pytest.mark.django_db
def test_plan_page_without_javascript_recomputes_from_the_query_string(catalog: Any) -> None:
    html = Client().get("/offres/essentiel/", {"options": ["transfert-appel"]}).content.decode()
    assert "164,00\u00a0€" in html  # 149 + 15
    assert 'value="transfert-appel" id="opt-transfert-appel" checked' in html


@pytest.mark.django_db
@pytest.mark.parametrize("params", [{"quantity": "abc"}, {"quantity": "0"},
                                    {"quantity": "1000"}, {"options": "inconnue"},
                                    {"options": "premium"}])
def test_live_price_bad_input_is_a_field_error_not_a_500(catalog: Any, params: Any) -> None:
    response = Client().get("/offres/essentiel/prix/", params)
    assert response.status_code == 422
    assert b"form-errors" in response.content


@pytest.mark.django_db
def test_listing_query_count_is_constant(catalog: Any,
                                         django_assert_max_num_queries: Any) -> None:
    client = Client()
    client.get("/offres/")  # warm caches (calendar spec, operator identity)
    with django_assert_max_num_queries(12) as first:
        client.get("/offres/")
    for i in range(20):
        extra = Offer.objects.create(slug=f"extra-{i}", kind=OfferKind.PACKAGE,
                                     name=f"Extra {i}", monthly_price_cents=1000)
        extra.options.set([catalog["sms"], catalog["mise-en-place"]])
    with django_assert_max_num_queries(len(first.captured_queries)):
        html = client.get("/offres/").content.decode()
    assert "Extra 19" in html


# --- Sectors ----------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_sector_page_shows_offers_for_that_sector_or_all_and_its_text(catalog: Any) -> None:
    html = Client().get("/secteurs/medical/").content.decode()
    assert "Télésecrétariat médical" in html  # PublicPage secteur-medical
    assert "Filtrage des urgences selon votre protocole" in html
    assert "Forfait Essentiel" in html  # sectors == [] → every sector
    assert "Hybride" in html  # sectors include medical
    assert "À l&#x27;acte" not in html  # not for medical
    legal = Client().get("/secteurs/juridique/").content.decode()
    assert "À l&#x27;acte" in legal and "Au temps passé" in legal
    assert Client().get("/secteurs/boulangerie/").status_code == 404


@pytest.mark.django_db
def test_sector_text_is_editable(catalog: Any) -> None:
    PublicPage.objects.filter(slug="secteur-artisan-btp").update(
        body="## Nouveau titre\n- Devis rappelés sous une heure")
    html = Client().get("/secteurs/artisan_btp/").content.decode()
    assert "<h2>Nouveau titre</h2>" in html
    assert "<li>Devis rappelés sous une heure</li>" in html


# --- Service client follows the SLA policy and the calendar ------------------------------------

@pytest.mark.django_db
def test_service_client_shows_default_promises(catalog: Any) -> None:
    html = Client().get("/service-client/").content.decode()
    assert "réponse sous 24 à 48 heures ouvrées" in html
    assert "réponse dans la journée ouvrée" in html
    assert "jamais au-delà de 72 heures ouvrées" in html
    assert "accusons réception sous 24 à 48 heures ouvrées" in html  # complaints
    assert "validées sous 24 heures ouvrées" in html and "sous 48 heures ouvrées" in html
    # The default calendar: Monday–Friday office hours, French public holidays.
    assert "Lundi – vendredi" in html and "08:30–12:30, 14:00–18:00" in html
    assert "Samedi – dimanche" in html and "fermé" in html
    assert "France métropolitaine" in html
    # The four steps of the complaint procedure.
    for step in ("Réception", "Analyse", "Traitement", "Clôture"):
        assert f"<li class=\"done\">{step}" in html


@pytest.mark.django_db
def test_service_client_follows_a_change_of_the_sla_policy(catalog: Any) -> None:
    from permanence.inbox import sla
    from permanence.inbox.models import Priority, SlaTarget

    policy = sla.ensure_default_policy()
    SlaTarget.objects.filter(policy=policy, priority=Priority.NORMAL, kind="").update(
        first_response_hours=Decimal("12"))
    SlaTarget.objects.filter(policy=policy, priority=Priority.LOW, kind="").update(
        first_response_hours=Decimal("36.5"))
    SlaTarget.objects.filter(policy=policy, priority=Priority.URGENT, kind="").update(
        first_response_same_day=False, first_response_hours=Decimal("4"))
    html = Client().get("/service-client/").content.decode()
    assert "réponse sous 12 à 36,5 heures ouvrées" in html
    assert "24 à 48 heures ouvrées" not in html.split("Réclamations")[0]
    assert "traitées en priorité, réponse sous 4 heures ouvrées" in html
    # A target above the engine's 72 h cap is shown capped, as the engine applies it.
    SlaTarget.objects.filter(policy=policy, priority=Priority.LOW, kind="").update(
        first_response_hours=Decimal("100"))
    html = Client().get("/service-client/").content.decode()
    assert "réponse sous 12 à 72 heures ouvrées" in html


@pytest.mark.django_db
def test_service_client_follows_the_operator_calendar(catalog: Any, admin_user: Any) -> None:
    from permanence.accounts.models import ClientAccount
    from permanence.calendars.services import calendar_set

    operator = ClientAccount.objects.create(name="Opérateur", slug="operateur",
                                            is_operator=True, status="actif")
    weekly = {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
    weekly |= {"sat": [["09:00", "12:00"]], "sun": []}
    with clock.frozen(datetime(2026, 11, 23, 10, 0, tzinfo=PARIS)):  # a Monday
        calendar_set(actor=admin_user, account=operator, data={
            "timezone": "Europe/Paris", "weekly": weekly, "holidays": "FR-57",
            "closures": [{"start": "2026-12-24T12:00:00+01:00",
                          "end": "2026-12-28T08:00:00+01:00",
                          "message": "Fermeture de fin d'année"}]})
        html = Client().get("/service-client/").content.decode()
    assert "Lundi – vendredi" in html and "09:00–17:00" in html
    assert "Samedi" in html and "09:00–12:00" in html
    assert "08:30–12:30" not in html
    assert "Alsace-Moselle" in html
    assert "Fermeture de fin d&#x27;année" in html
    assert "Ouvert en ce moment" in html
    with clock.frozen(datetime(2026, 11, 23, 20, 0, tzinfo=PARIS)):
        evening = Client().get("/service-client/").content.decode()
    assert "Fermé en ce moment" in evening and "09:00" in evening


@pytest.mark.django_db
def test_service_client_lists_upcoming_announcements(catalog: Any) -> None:
    from permanence.calendars.models import Announcement

    now = clock.now()
    Announcement.objects.create(kind="maintenance", title="Maintenance de l'espace client",
                                starts_at=now + timedelta(days=3),
                                ends_at=now + timedelta(days=3, hours=2))
    html = Client().get("/service-client/").content.decode()
    assert "Maintenance de l&#x27;espace client" in html


# --- CGV -----------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_cgv_versions_stay_readable_and_the_latest_is_current(catalog: Any) -> None:
    old = TermsVersion.objects.get(version="2026-11")
    TermsVersion.objects.filter(pk=old.pk).update(published_at=clock.now() - timedelta(days=30))
    TermsVersion.objects.create(version="2027-01", body="## Article 1\nNouveau texte.",
                                published_at=clock.now())
    TermsVersion.objects.create(version="2027-02", body="Brouillon", published_at=None)
    current = Client().get("/cgv/").content.decode()
    assert "Version 2027-01" in current and "Nouveau texte." in current and "En vigueur" in current
    previous = Client().get("/cgv/2026-11/").content.decode()
    assert "Droit de rétractation" in previous and "Version antérieure" in previous
    assert Client().get("/cgv/2027-02/").status_code == 404  # drafts are not public
    assert Client().get("/cgv/inconnue/").status_code == 404


@pytest.mark.django_db
def test_cgv_pdf(catalog: Any) -> None:
    response = Client().get("/cgv/2026-11.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert Client().get("/cgv/2027-99.pdf").status_code == 404


@pytest.mark.django_db
def test_terms_pdf_function_for_the_confirmation_email(catalog: Any) -> None:
    from permanence.catalog.documents import terms_pdf

    assert terms_pdf(TermsVersion.objects.get(version="2026-11")).startswith(b"%PDF")


@pytest.mark.django_db
def test_published_terms_pdf_is_rendered_once_then_cached(catalog: Any,
                                                          monkeypatch: Any) -> None:
    from permanence.catalog import documents

    calls: list[str] = []
    real = documents._render

    def counting(terms: Any, operator: Any) -> bytes:
        calls.append(terms.version)
        return real(terms, operator)

    monkeypatch.setattr(documents, "_render", counting)
    terms = TermsVersion.objects.get(version="2026-11")
    first = documents.terms_pdf(terms)
    assert documents.terms_pdf(terms) == first
    assert Client().get("/cgv/2026-11.pdf").content == first
    assert calls == ["2026-11"]


@pytest.mark.django_db
def test_no_cgv_yet_is_a_404(db: Any) -> None:
    assert Client().get("/cgv/").status_code == 404


# --- Editable pages ---------------------------------------------------------------------------

@pytest.mark.django_db
def test_unpublished_page_is_a_404(catalog: Any) -> None:
    PublicPage.objects.filter(slug="faq").update(is_published=False)
    assert Client().get("/pages/faq/").status_code == 404
    assert Client().get("/pages/nexiste-pas/").status_code == 404


def test_page_text_is_rendered_safely() -> None:
    html = render_text("Intro <script>alert(1)</script>\nsuite\n\n## Titre\n- un\n- deux\n"
                       "Après la liste\n\n### Sous-titre")
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<p>Intro &lt;script&gt;alert(1)&lt;/script&gt;<br>suite</p>" in html
    assert "<h2>Titre</h2>" in html and "<h3>Sous-titre</h3>" in html
    assert "<ul><li>un</li><li>deux</li></ul>" in html
    assert "<p>Après la liste</p>" in html
