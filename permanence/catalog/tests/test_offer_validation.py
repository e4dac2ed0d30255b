"""offer_save's validation, message by message, and the values it normalises.

Every error is reported at once (cross-field checks too, whatever else failed), under the name
of the editor's input ("monthly_price" for "monthly_price_cents"), in a fixed order.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from permanence.catalog import services
from permanence.catalog.demo import seed_catalog
from permanence.catalog.models import Offer
from permanence.core.errors import DomainError

MONTANT = "Montant invalide (ex. 149,00)."
ENTIER = "Nombre entier positif attendu."
TVA = "Taux de TVA entre 0 et 100 %, deux décimales au plus (ex. 20 ou 5,5)."
SANS_OPTIONS = "Une option ou une prestation ponctuelle ne propose pas d'options."
SEULES_OPTIONS = ("Seules les options et prestations ponctuelles peuvent être proposées avec "
                  "une offre.")


def _fields(actor: Any, data: dict[str, Any], offer: Offer | None = None) -> list[tuple]:
    with pytest.raises(DomainError) as exc:
        services.offer_save(actor=actor, offer=offer, data=data)
    assert (exc.value.code, exc.value.status) == ("invalid", 422)
    return list(exc.value.fields.items())


@pytest.mark.django_db
def test_every_field_error_at_once_in_order(admin_user: Any) -> None:
    seed_catalog()
    sms = Offer.objects.get(slug="sms")
    assert _fields(admin_user, {
        "slug": " Pas Un Slug ", "kind": "abonnement", "name": "  ", "monthly_price_cents": "149",
        "one_off_price_cents": -1, "unit_price_cents": True, "hourly_rate_cents": 100_000_001,
        "included_quantity": "100", "increment_minutes": -5, "commitment_months": 1.5,
        "notice_days": None, "included_unit": "pigeon", "unit": "", "vat_rate": "5,555",
        "sectors": ["medical", "astrologie"], "options": [sms.pk, 999999],
    }) == [
        ("slug", ["Lettres minuscules, chiffres et tirets uniquement (ex. forfait-essentiel)."]),
        ("kind", ["Type d'offre inconnu."]),
        ("name", ["Le nom est obligatoire."]),
        ("monthly_price", [MONTANT]),
        ("one_off_price", [MONTANT]),
        ("unit_price", [MONTANT]),
        ("hourly_rate", [MONTANT]),
        ("included_quantity", [ENTIER]),
        ("increment_minutes", [ENTIER, "Au moins une minute."]),
        ("commitment_months", [ENTIER]),
        ("included_unit", ["Unité inconnue."]),
        ("unit", ["Précisez l'unité facturée au prix unitaire."]),
        ("vat_rate", [TVA]),
        ("sectors", ["Secteur inconnu."]),
        ("options", ["Option inconnue."]),
    ]
    assert not Offer.objects.filter(slug__icontains="slug").exists()


@pytest.mark.django_db
def test_consistency_errors_and_options(admin_user: Any) -> None:
    seed_catalog()
    sms = Offer.objects.get(slug="sms")
    essentiel = Offer.objects.get(slug="essentiel")
    assert _fields(admin_user, {
        "slug": "essentiel", "kind": "option", "name": "X", "increment_minutes": False,
        "included_quantity": 3, "unit_price_cents": 120, "vat_rate": None, "sectors": "medical",
        "options": [essentiel],
    }) == [
        ("slug", ["Une offre utilise déjà cet identifiant."]),
        ("increment_minutes", [ENTIER, "Au moins une minute."]),
        ("included_unit", ["Précisez l'unité de la quantité incluse."]),
        ("unit", ["Précisez l'unité facturée au prix unitaire."]),
        ("vat_rate", [TVA]),
        ("sectors", ["Secteur inconnu."]),
        ("options", [SANS_OPTIONS, SEULES_OPTIONS]),
    ]
    # Editing: its own slug is free, but it cannot be its own option.
    assert _fields(admin_user, {"slug": "sms", "kind": "option", "name": "SMS",
                                "options": [sms, essentiel.pk]}, offer=sms) == [
        ("options", [SANS_OPTIONS, SEULES_OPTIONS,
                     "Une offre ne peut pas être sa propre option."]),
    ]


@pytest.mark.django_db
def test_values_are_normalised(admin_user: Any) -> None:
    seed_catalog()
    sms = Offer.objects.get(slug="sms")
    offer = services.offer_save(actor=admin_user, data={
        "slug": "  forfait-test ", "kind": "forfait", "name": " Forfait Test ", "name_en": None,
        "monthly_price_cents": 14900, "unit_price_cents": "", "hourly_rate_cents": None,
        "increment_minutes": "", "notice_days": None, "activation_business_hours": "",
        "included_unit": None, "vat_rate": "5,5", "sectors": ("medical",), "is_published": "on",
        "is_featured": 0, "options": [sms],
    })
    offer.refresh_from_db()
    assert (offer.slug, offer.name, offer.name_en, offer.tagline) == (
        "forfait-test", "Forfait Test", "", "")
    assert (offer.monthly_price_cents, offer.unit_price_cents, offer.hourly_rate_cents,
            offer.one_off_price_cents) == (14900, 0, 0, 0)
    # None or "" take the default; a field left out takes 0.
    assert (offer.increment_minutes, offer.notice_days, offer.activation_business_hours,
            offer.commitment_months, offer.included_quantity) == (15, 30, 48, 0, 0)
    assert (offer.included_unit, offer.unit) == ("", "")
    assert offer.vat_rate == Decimal("5.50")
    assert offer.sectors == ["medical"]
    assert (offer.is_published, offer.is_featured, offer.requires_information) == (
        True, False, False)
    assert list(offer.options.all()) == [sms]


@pytest.mark.django_db
def test_edit_keeps_the_fields_not_given(admin_user: Any) -> None:
    seed_catalog()
    essentiel = Offer.objects.get(slug="essentiel")
    before = {o.slug for o in essentiel.options.all()}
    saved = services.offer_save(actor=admin_user, offer=essentiel,
                                data={"name": "Essentiel+", "vat_rate": 10})
    saved.refresh_from_db()
    assert (saved.name, saved.vat_rate, saved.monthly_price_cents, saved.unit) == (
        "Essentiel+", Decimal("10.00"), 14900, "appel")
    assert {o.slug for o in saved.options.all()} == before
