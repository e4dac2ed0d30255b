"""The operator's catalog (offers and options) and its public site (pages, versioned CGV).

Prices are integer cents HT; VAT rates are Decimal percentages (see core/money.py)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from permanence.core.money import ttc_cents


class OfferKind(models.TextChoices):
    PACKAGE = "forfait", _("Forfait mensuel")
    PER_ACT = "acte", _("À l'acte")
    TIME = "temps", _("Au temps passé")
    HYBRID = "hybride", _("Hybride")
    OPTION = "option", _("Option")
    ONE_OFF = "ponctuel", _("Prestation ponctuelle")


# The order delays the operator promises (seed 000, "Délais de traitement des commandes en
# ligne"): validation within 24 business hours of payment, activation within 48 business hours
# of validation unless an offer says otherwise. Here, beside the offers, because the public
# promise (service_promise.py) and the order machine (shop/orders.py) must read the same numbers.
VALIDATION_BUSINESS_HOURS = 24
DEFAULT_ACTIVATION_BUSINESS_HOURS = 48

PLAN_KINDS = (OfferKind.PACKAGE, OfferKind.PER_ACT, OfferKind.TIME, OfferKind.HYBRID)


class Unit(models.TextChoices):
    CALL = "appel", _("appel")
    MINUTE = "minute", _("minute")
    MESSAGE = "message", _("message")
    APPOINTMENT = "rdv", _("rendez-vous")
    HOUR = "heure", _("heure")


class Offer(models.Model):
    """A plan, an option or a one-off service that can be put in a cart or a quote."""

    slug = models.SlugField(_("identifiant"), max_length=80, unique=True)
    kind = models.CharField(_("type"), max_length=10, choices=OfferKind.choices)
    name = models.CharField(_("nom"), max_length=120)
    name_en = models.CharField(_("nom (anglais)"), max_length=120, blank=True)
    tagline = models.CharField(_("accroche"), max_length=200, blank=True)
    tagline_en = models.CharField(_("accroche (anglais)"), max_length=200, blank=True)
    description = models.TextField(_("description"), blank=True)
    description_en = models.TextField(_("description (anglais)"), blank=True)
    included = models.TextField(_("ce qui est inclus (une ligne par élément)"), blank=True)
    included_en = models.TextField(_("ce qui est inclus (anglais)"), blank=True)
    # Sectors this offer is shown for on the sector landing pages ([] = every sector).
    sectors = models.JSONField(_("secteurs"), default=list, blank=True)
    # Recurring part, billed monthly (forfait, hybride base, recurring options).
    monthly_price_cents = models.PositiveIntegerField(_("prix mensuel HT (centimes)"), default=0)
    # One-off part (ponctuel services, set-up fees), billed once with the order.
    one_off_price_cents = models.PositiveIntegerField(_("prix unique HT (centimes)"), default=0)
    included_quantity = models.PositiveIntegerField(_("quantité incluse par mois"), default=0)
    included_unit = models.CharField(_("unité incluse"), max_length=8, choices=Unit.choices,
                                     blank=True)
    # Per-unit price: the act (à l'acte, hybride) or the overage beyond the included quantity.
    unit_price_cents = models.PositiveIntegerField(_("prix unitaire HT (centimes)"), default=0)
    unit = models.CharField(_("unité facturée"), max_length=8, choices=Unit.choices, blank=True)
    hourly_rate_cents = models.PositiveIntegerField(_("taux horaire HT (centimes)"), default=0)
    increment_minutes = models.PositiveIntegerField(_("facturé par tranche de (minutes)"),
                                                    default=15)
    commitment_months = models.PositiveIntegerField(_("engagement (mois)"), default=0)
    notice_days = models.PositiveIntegerField(_("préavis de résiliation (jours)"), default=30)
    activation_business_hours = models.PositiveIntegerField(
        _("délai de mise en service (heures ouvrées)"), default=DEFAULT_ACTIVATION_BUSINESS_HOURS)
    requires_information = models.BooleanField(
        _("consignes du client nécessaires avant la mise en service"), default=False)
    vat_rate = models.DecimalField(_("taux de TVA (%)"), max_digits=5, decimal_places=2,
                                   default=Decimal("20.00"))
    options = models.ManyToManyField("self", symmetrical=False, blank=True,
                                     related_name="plans", verbose_name=_("options proposées"))
    is_published = models.BooleanField(_("publiée"), default=True)
    is_featured = models.BooleanField(_("mise en avant"), default=False)
    position = models.PositiveIntegerField(_("ordre"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("offre")

    def __str__(self) -> str:
        return self.name

    def _localized(self, field: str) -> str:
        if (get_language() or "fr").startswith("en"):
            return getattr(self, f"{field}_en") or getattr(self, field)
        return str(getattr(self, field))

    @property
    def display_name(self) -> str:
        return self._localized("name")

    @property
    def display_tagline(self) -> str:
        return self._localized("tagline")

    @property
    def display_description(self) -> str:
        return self._localized("description")

    @property
    def included_items(self) -> list[str]:
        return [line.strip() for line in self._localized("included").splitlines()
                if line.strip()]

    @property
    def is_plan(self) -> bool:
        return self.kind in PLAN_KINDS

    @property
    def is_recurring(self) -> bool:
        return self.monthly_price_cents > 0

    @property
    def upfront_price_cents(self) -> int:
        """What one unit of this offer costs at order time, HT: the first month (if any)
        plus the one-off part. Usage (acts, minutes, overage) is billed afterwards."""
        return self.monthly_price_cents + self.one_off_price_cents

    @property
    def monthly_price_ttc_cents(self) -> int:
        return ttc_cents(self.monthly_price_cents, self.vat_rate)

    @property
    def one_off_price_ttc_cents(self) -> int:
        return ttc_cents(self.one_off_price_cents, self.vat_rate)

    @property
    def unit_price_ttc_cents(self) -> int:
        return ttc_cents(self.unit_price_cents, self.vat_rate)


class PublicPage(models.Model):
    """An editable page of the public site (home, sectors, service client, FAQ, legal)."""

    slug = models.SlugField(_("adresse"), max_length=80, unique=True)
    title = models.CharField(_("titre"), max_length=160)
    title_en = models.CharField(_("titre (anglais)"), max_length=160, blank=True)
    # Plain text with blank-line paragraphs and "## " headings (rendered safely, no HTML).
    body = models.TextField(_("contenu"), blank=True)
    body_en = models.TextField(_("contenu (anglais)"), blank=True)
    is_published = models.BooleanField(_("publiée"), default=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["slug"]
        verbose_name = _("page publique")

    def __str__(self) -> str:
        return self.title


class TermsVersion(models.Model):
    """Conditions générales de vente, versioned: an order records the version accepted."""

    version = models.CharField(_("version"), max_length=20, unique=True)
    body = models.TextField(_("texte"))
    body_en = models.TextField(_("texte (anglais)"), blank=True)
    published_at = models.DateTimeField(_("publiée le"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["-published_at", "-pk"]
        verbose_name = _("version des CGV")

    def __str__(self) -> str:
        return f"CGV {self.version}"
