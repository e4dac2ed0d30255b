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

from permanence.audit.models import AuditEvent
from permanence.audit.services import audit_record, diff_fields
from permanence.core import clock
from permanence.core.errors import DomainError, Forbidden, invalid_fields

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


def _check(actor: Any) -> None:
    if not can_manage_catalog(actor):
        raise Forbidden(_("Seuls les administrateurs modifient le catalogue et le site."))


def _clean_offer(data: dict[str, Any], current: Offer | None) -> tuple[dict[str, Any], list[Offer]]:
    from permanence.accounts.models import Sector

    errors: dict[str, list[str]] = {}

    def err(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    clean: dict[str, Any] = {}
    for name in OFFER_FIELDS:
        if name in data:
            clean[name] = data[name]
        elif current is not None:
            clean[name] = getattr(current, name)
    slug = str(clean.get("slug") or "").strip()
    clean["slug"] = slug
    if not SLUG_RE.match(slug) or len(slug) > 80:
        err("slug", _("Lettres minuscules, chiffres et tirets uniquement (ex. forfait-essentiel)."))
    elif _others(Offer.objects.filter(slug=slug), current).exists():
        err("slug", _("Une offre utilise déjà cet identifiant."))
    if clean.get("kind") not in OfferKind.values:
        err("kind", _("Type d'offre inconnu."))
    for name in TEXT_FIELDS:
        clean[name] = str(clean.get(name) or "").strip()
    if not clean["name"]:
        err("name", _("Le nom est obligatoire."))
    for name in CENTS_FIELDS:
        value = clean.get(name, 0)
        if value in (None, ""):
            value = 0
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_CENTS:
            err(name.removesuffix("_cents"), _("Montant invalide (ex. 149,00)."))
        clean[name] = value
    for name in INT_FIELDS:
        value = clean.get(name, 0)
        if value in (None, ""):
            value = INT_DEFAULTS.get(name, 0)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            err(name, _("Nombre entier positif attendu."))
        clean[name] = value
    if isinstance(clean.get("increment_minutes"), int) and clean["increment_minutes"] < 1:
        err("increment_minutes", _("Au moins une minute."))
    for name in ("included_unit", "unit"):
        clean[name] = clean.get(name) or ""
        if clean[name] and clean[name] not in Unit.values:
            err(name, _("Unité inconnue."))
    if clean.get("included_quantity") and not clean["included_unit"]:
        err("included_unit", _("Précisez l'unité de la quantité incluse."))
    if clean.get("unit_price_cents") and not clean["unit"]:
        err("unit", _("Précisez l'unité facturée au prix unitaire."))
    try:
        rate = Decimal(str(clean.get("vat_rate", "20")).replace(",", "."))
        if not rate.is_finite() or not Decimal(0) <= rate <= Decimal(100) or (
                rate.as_tuple().exponent < -2):  # type: ignore[operator]
            raise InvalidOperation
        clean["vat_rate"] = rate.quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        err("vat_rate", _("Taux de TVA entre 0 et 100 %, deux décimales au plus (ex. 20 ou 5,5)."))
    sectors = clean.get("sectors") or []
    if not isinstance(sectors, list | tuple) or any(s not in Sector.values for s in sectors):
        err("sectors", _("Secteur inconnu."))
        sectors = []
    clean["sectors"] = list(sectors)
    for name in BOOL_FIELDS:
        clean[name] = bool(clean.get(name))

    options: list[Offer] = []
    if "options" in data:
        raw = list(data["options"] or [])
        ids = [o.pk if isinstance(o, Offer) else o for o in raw]
        options = list(Offer.objects.filter(pk__in=ids))
        if len(options) != len(set(ids)):
            err("options", _("Option inconnue."))
    elif current is not None:
        options = list(current.options.all())
    if options:
        if clean.get("kind") in (OfferKind.OPTION, OfferKind.ONE_OFF):
            err("options", _("Une option ou une prestation ponctuelle ne propose pas d'options."))
        if any(o.kind not in (OfferKind.OPTION, OfferKind.ONE_OFF) for o in options):
            err("options", _("Seules les options et prestations ponctuelles peuvent être "
                             "proposées avec une offre."))
        if current is not None and any(o.pk == current.pk for o in options):
            err("options", _("Une offre ne peut pas être sa propre option."))
    if errors:
        raise invalid_fields(errors)
    return clean, options


@transaction.atomic
def offer_save(*, actor: Any, offer: Offer | None = None, data: dict[str, Any]) -> Offer:
    """Create (offer=None) or edit an offer. Raises Forbidden, DomainError(422, fields)."""
    _check(actor)
    current = Offer.objects.select_for_update().get(pk=offer.pk) if offer else None
    clean, options = _clean_offer(data, current)
    if current is None:
        current = Offer(**clean)
        current.save()
        current.options.set(options)
        audit_record(actor=actor, action=AuditEvent.Action.CREATE, target=current,
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
        audit_record(actor=actor, action=AuditEvent.Action.UPDATE, target=current,
                     changes=changes)
    return current


@transaction.atomic
def offer_set_published(*, actor: Any, offer: Offer, published: bool) -> Offer:
    _check(actor)
    locked = Offer.objects.select_for_update().get(pk=offer.pk)
    if locked.is_published != published:
        audit_record(actor=actor, action=AuditEvent.Action.UPDATE, target=locked,
                     changes={"is_published": [locked.is_published, published]})
        locked.is_published = published
        locked.save(update_fields=["is_published", "updated_at"])
    return locked


@transaction.atomic
def page_save(*, actor: Any, page: PublicPage | None = None,
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
        audit_record(actor=actor, action=AuditEvent.Action.CREATE, target=current,
                     changes={k: [None, v] for k, v in clean.items()})
        return current
    changes = diff_fields(current, clean)
    if changes:
        for name, value in clean.items():
            setattr(current, name, value)
        current.updated_by = user
        current.save()
        audit_record(actor=actor, action=AuditEvent.Action.UPDATE, target=current,
                     changes=changes)
    return current


@transaction.atomic
def terms_save(*, actor: Any, terms: TermsVersion | None = None,
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
        audit_record(actor=actor, action=AuditEvent.Action.CREATE, target=current,
                     changes={"version": [None, clean["version"]]})
        return current
    changes = diff_fields(current, clean)
    if changes:
        for name, value in clean.items():
            setattr(current, name, value)
        current.save()
        audit_record(actor=actor, action=AuditEvent.Action.UPDATE, target=current,
                     changes={k: v for k, v in changes.items() if k == "version"}
                     | {k: ["…", "…"] for k in changes if k != "version"})
    return current


@transaction.atomic
def terms_publish(*, actor: Any, terms: TermsVersion) -> TermsVersion:
    """Publish a draft: from now on it is the CGV in force, and it can no longer change."""
    _check(actor)
    locked = TermsVersion.objects.select_for_update().get(pk=terms.pk)
    if locked.published_at is not None:
        raise DomainError("already_published", _("Cette version est déjà publiée."), status=409)
    locked.published_at = clock.now()
    locked.save(update_fields=["published_at"])
    audit_record(actor=actor, action=AuditEvent.Action.UPDATE, target=locked,
                 changes={"published_at": [None, locked.published_at.isoformat()]})
    return locked
