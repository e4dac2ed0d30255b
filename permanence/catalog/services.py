"""Writes on the catalog and the public site (administrators only), each audited.

Offers: create, edit, publish/unpublish. Public pages: create, edit. CGV: drafts are editable,
a published version is immutable; publishing a version makes it the one in force.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from permanence.accounts.models import Sector, User
from permanence.audit.actions import Action
from permanence.audit.services import audit_record, diff_fields
from permanence.core import clock
from permanence.core.errors import DomainError, Forbidden, invalid_fields
from permanence.core.field_errors import FieldErrors

from .models import Offer, OfferKind, PublicPage, TermsVersion, Unit
from .permissions import can_manage_catalog

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
VERSION_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._-]{0,19}$")
CENTS_FIELDS = ("monthly_price_cents", "one_off_price_cents", "unit_price_cents",
                "hourly_rate_cents")
INT_FIELDS = ("included_quantity", "increment_minutes", "commitment_months", "notice_days",
              "activation_business_hours", "position")
TEXT_FIELDS = ("name", "name_en", "tagline", "tagline_en", "description", "description_en",
               "included", "included_en")
BOOL_FIELDS = ("requires_information", "is_published", "is_featured")
OFFER_FIELDS = ("slug", "kind", *TEXT_FIELDS, "sectors", *CENTS_FIELDS, "included_unit", "unit",
                *INT_FIELDS, "vat_rate", *BOOL_FIELDS)
INT_DEFAULTS = {"increment_minutes": 15, "notice_days": 30, "activation_business_hours": 48}
PAGE_FIELDS = ("slug", "title", "title_en", "body", "body_en", "is_published")
MAX_CENTS = 100_000_000  # one million euros: beyond, a typo


def _others(qs: QuerySet[Any], current: Any) -> QuerySet[Any]:
    """Rows of `qs` other than `current` (all of them when creating)."""
    return qs.exclude(pk=current.pk) if current is not None else qs


def _check(actor: User) -> None:
    if not can_manage_catalog(actor):
        raise Forbidden(_("Seuls les administrateurs modifient le catalogue et le site."))


def _clean_offer(data: dict[str, Any], current: Offer | None) -> tuple[dict[str, Any], list[Offer]]:
    """Normalised field values and options of an offer; DomainError(422) with every error.

    A field missing from `data` keeps its current value (when editing). The checks run in a
    fixed order, which is also the order of the fields (and of their messages) in the error.
    """
    errors = FieldErrors()
    clean = {name: data[name] if name in data else getattr(current, name)
             for name in OFFER_FIELDS if name in data or current is not None}
    _clean_slug(clean, current, errors)
    if clean.get("kind") not in OfferKind.values:
        errors.add("kind", _("Type d'offre inconnu."))
    _clean_texts(clean, errors)
    _clean_counts(clean, errors)
    _clean_units(clean, errors)
    rate = _vat_rate(clean.get("vat_rate", "20"))
    if rate is None:
        errors.add("vat_rate", _("Taux de TVA entre 0 et 100 %, deux décimales au plus (ex. 20 ou 5,5)."))
    else:
        clean["vat_rate"] = rate
    _clean_sectors(clean, errors)
    for name in BOOL_FIELDS:
        clean[name] = bool(clean.get(name))
    options = _chosen_options(data, current, errors)
    _check_options(options, clean.get("kind"), current, errors)
    if errors:
        raise invalid_fields(errors.fields)
    return clean, options


def _clean_slug(clean: dict[str, Any], current: Offer | None, errors: FieldErrors) -> None:
    slug = clean["slug"] = str(clean.get("slug") or "").strip()
    if not SLUG_RE.match(slug) or len(slug) > 80:
        errors.add("slug", _("Lettres minuscules, chiffres et tirets uniquement (ex. forfait-essentiel)."))
    elif _others(Offer.objects.filter(slug=slug), current).exists():
        errors.add("slug", _("Une offre utilise déjà cet identifiant."))


def _clean_texts(clean: dict[str, Any], errors: FieldErrors) -> None:
    for name in TEXT_FIELDS:
        clean[name] = str(clean.get(name) or "").strip()
    if not clean["name"]:
        errors.add("name", _("Le nom est obligatoire."))


def _is_count(value: Any) -> bool:
    """An int ≥ 0 (a bool is not one, although Python says it is an int)."""
    return not isinstance(value, bool) and isinstance(value, int) and value >= 0


def _clean_counts(clean: dict[str, Any], errors: FieldErrors) -> None:
    """Amounts in cents and whole numbers: ints ≥ 0 (None or "" for 0, or the default)."""
    for name in CENTS_FIELDS:
        value = clean[name] = _or_default(clean.get(name, 0), 0)
        if not _is_count(value) or value > MAX_CENTS:
            # The form's field is in euros: "monthly_price" for "monthly_price_cents".
            errors.add(name.removesuffix("_cents"), _("Montant invalide (ex. 149,00)."))
    for name in INT_FIELDS:
        value = clean[name] = _or_default(clean.get(name, 0), INT_DEFAULTS.get(name, 0))
        if not _is_count(value):
            errors.add(name, _("Nombre entier positif attendu."))
    if isinstance(clean.get("increment_minutes"), int) and clean["increment_minutes"] < 1:
        errors.add("increment_minutes", _("Au moins une minute."))


def _or_default(value: Any, default: int) -> Any:
    return default if value in (None, "") else value


def _clean_units(clean: dict[str, Any], errors: FieldErrors) -> None:
    for name in ("included_unit", "unit"):
        clean[name] = clean.get(name) or ""
        if clean[name] and clean[name] not in Unit.values:
            errors.add(name, _("Unité inconnue."))
    if clean.get("included_quantity") and not clean["included_unit"]:
        errors.add("included_unit", _("Précisez l'unité de la quantité incluse."))
    if clean.get("unit_price_cents") and not clean["unit"]:
        errors.add("unit", _("Précisez l'unité facturée au prix unitaire."))


def _vat_rate(value: Any) -> Decimal | None:
    """A VAT rate in percent ("20", "5,5", 5.5…), 0 to 100 with two decimals at most, else None."""
    try:
        rate = Decimal(str(value).replace(",", "."))
        valid = rate.is_finite() and Decimal(0) <= rate <= Decimal(100) and (
            rate.as_tuple().exponent >= -2)  # type: ignore[operator]
        return rate.quantize(Decimal("0.01")) if valid else None
    except (InvalidOperation, ValueError):
        return None


def _clean_sectors(clean: dict[str, Any], errors: FieldErrors) -> None:
    sectors = clean.get("sectors") or []
    if not isinstance(sectors, list | tuple) or any(s not in Sector.values for s in sectors):
        errors.add("sectors", _("Secteur inconnu."))
        sectors = []
    clean["sectors"] = list(sectors)


def _chosen_options(data: dict[str, Any], current: Offer | None,
                    errors: FieldErrors) -> list[Offer]:
    """The offers given in data["options"] (Offer objects or primary keys), else the current."""
    if "options" in data:
        ids = [o.pk if isinstance(o, Offer) else o for o in list(data["options"] or [])]
        options = list(Offer.objects.filter(pk__in=ids))
        if len(options) != len(set(ids)):
            errors.add("options", _("Option inconnue."))
        return options
    if current is not None:
        return list(current.options.all())
    return []


def _check_options(options: list[Offer], kind: Any, current: Offer | None,
                   errors: FieldErrors) -> None:
    if not options:
        return
    if kind in (OfferKind.OPTION, OfferKind.ONE_OFF):
        errors.add("options", _("Une option ou une prestation ponctuelle ne propose pas d'options."))
    if any(o.kind not in (OfferKind.OPTION, OfferKind.ONE_OFF) for o in options):
        errors.add("options", _("Seules les options et prestations ponctuelles peuvent être "
                                "proposées avec une offre."))
    if current is not None and any(o.pk == current.pk for o in options):
        errors.add("options", _("Une offre ne peut pas être sa propre option."))


@transaction.atomic
def offer_save(*, actor: User, offer: Offer | None = None, data: dict[str, Any]) -> Offer:
    """Create (offer=None) or edit an offer. Raises Forbidden, DomainError(422, fields)."""
    _check(actor)
    current = Offer.objects.select_for_update().get(pk=offer.pk) if offer else None
    clean, options = _clean_offer(data, current)
    if current is None:
        current = Offer(**clean)
        current.save()
        current.options.set(options)
        audit_record(actor=actor, action=Action.CREATE, target=current,
                     changes={k: [None, v] for k, v in clean.items()}
                     | {"options": [None, sorted(o.slug for o in options)]})
        return current
    changes = diff_fields(current, clean)
    before = sorted(o.slug for o in current.options.all())
    after = sorted(o.slug for o in options)
    if before != after:
        changes["options"] = [before, after]
    for name, value in clean.items():
        setattr(current, name, value)
    current.save()
    if "options" in changes:
        current.options.set(options)
    if changes:
        audit_record(actor=actor, action=Action.UPDATE, target=current,
                     changes=changes)
    return current


@transaction.atomic
def offer_set_published(*, actor: User, offer: Offer, published: bool) -> Offer:
    _check(actor)
    locked = Offer.objects.select_for_update().get(pk=offer.pk)
    if locked.is_published != published:
        audit_record(actor=actor, action=Action.UPDATE, target=locked,
                     changes={"is_published": [locked.is_published, published]})
        locked.is_published = published
        locked.save(update_fields=["is_published", "updated_at"])
    return locked


@transaction.atomic
def page_save(*, actor: User, page: PublicPage | None = None,
              data: dict[str, Any]) -> PublicPage:
    _check(actor)
    current = PublicPage.objects.select_for_update().get(pk=page.pk) if page else None
    clean = {name: data.get(name, getattr(current, name, "")) for name in PAGE_FIELDS}
    for name in ("slug", "title", "title_en", "body", "body_en"):
        clean[name] = str(clean[name] or "").strip()
    clean["is_published"] = bool(clean["is_published"])
    errors: dict[str, list[str]] = {}
    if not SLUG_RE.match(clean["slug"]) or len(clean["slug"]) > 80:
        errors["slug"] = [_("Lettres minuscules, chiffres et tirets uniquement "
                            "(ex. mentions-legales).")]
    elif _others(PublicPage.objects.filter(slug=clean["slug"]), current).exists():
        errors["slug"] = [_("Une page utilise déjà cette adresse.")]
    if not clean["title"]:
        errors["title"] = [_("Le titre est obligatoire.")]
    if errors:
        raise invalid_fields(errors)
    user = actor if getattr(actor, "pk", None) else None
    if current is None:
        current = PublicPage.objects.create(**clean, updated_by=user)
        audit_record(actor=actor, action=Action.CREATE, target=current,
                     changes={k: [None, v] for k, v in clean.items()})
        return current
    changes = diff_fields(current, clean)
    if changes:
        for name, value in clean.items():
            setattr(current, name, value)
        current.updated_by = user
        current.save()
        audit_record(actor=actor, action=Action.UPDATE, target=current,
                     changes=changes)
    return current


@transaction.atomic
def terms_save(*, actor: User, terms: TermsVersion | None = None,
               data: dict[str, Any]) -> TermsVersion:
    """Create a CGV draft or edit one. A published version is immutable (409)."""
    _check(actor)
    current = TermsVersion.objects.select_for_update().get(pk=terms.pk) if terms else None
    if current is not None and current.published_at is not None:
        raise DomainError("immutable", _("Une version publiée des CGV ne peut plus être "
                                         "modifiée : créez une nouvelle version."), status=409)
    clean = {
        "version": str(data.get("version", getattr(current, "version", "")) or "").strip(),
        "body": str(data.get("body", getattr(current, "body", "")) or "").strip(),
        "body_en": str(data.get("body_en", getattr(current, "body_en", "")) or "").strip(),
    }
    errors: dict[str, list[str]] = {}
    if not VERSION_RE.match(clean["version"]):
        errors["version"] = [_("Lettres, chiffres, points et tirets, 20 caractères au plus "
                               "(ex. 2026-11).")]
    elif _others(TermsVersion.objects.filter(version=clean["version"]), current).exists():
        errors["version"] = [_("Cette version existe déjà.")]
    if not clean["body"]:
        errors["body"] = [_("Le texte des CGV est obligatoire.")]
    if errors:
        raise invalid_fields(errors)
    if current is None:
        user = actor if getattr(actor, "pk", None) else None
        current = TermsVersion.objects.create(**clean, created_by=user)
        audit_record(actor=actor, action=Action.CREATE, target=current,
                     changes={"version": [None, clean["version"]]})
        return current
    changes = diff_fields(current, clean)
    if changes:
        for name, value in clean.items():
            setattr(current, name, value)
        current.save()
        audit_record(actor=actor, action=Action.UPDATE, target=current,
                     changes={k: v for k, v in changes.items() if k == "version"}
                     | {k: ["…", "…"] for k in changes if k != "version"})
    return current


@transaction.atomic
def terms_publish(*, actor: User, terms: TermsVersion) -> TermsVersion:
    """Publish a draft: from now on it is the CGV in force, and it can no longer change."""
    _check(actor)
    locked = TermsVersion.objects.select_for_update().get(pk=terms.pk)
    if locked.published_at is not None:
        raise DomainError("already_published", _("Cette version est déjà publiée."), status=409)
    locked.published_at = clock.now()
    locked.save(update_fields=["published_at"])
    audit_record(actor=actor, action=Action.UPDATE, target=locked,
                 changes={"published_at": [None, locked.published_at.isoformat()]})
    return locked
