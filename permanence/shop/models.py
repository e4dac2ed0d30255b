"""Carts, quotes (devis) and orders (commandes), each state machine with its history.

Money: integer cents HT per line, Decimal VAT rates, totals by core/money.compute_totals."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from permanence.core.consent import PURPOSE_PRIVACY, PURPOSE_TERMS
from permanence.core.models import StatusHistory


class CustomerKind(models.TextChoices):
    PRO = "professionnel", _("Professionnel")
    CONSUMER = "particulier", _("Particulier")


class ReferenceCounter(models.Model):
    """Gapless per-(prefix, year) numbering: CM-2026-000042, DV-2026-000007."""

    prefix = models.CharField(max_length=4)
    year = models.PositiveIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["prefix", "year"],
                                               name="shop_counter_prefix_year")]

    def __str__(self) -> str:
        return f"{self.prefix}-{self.year}: {self.last}"


# --- Cart --------------------------------------------------------------------------------------


class Cart(models.Model):
    """Anonymous carts are found by `token` (in the session); merged into the user's at login."""

    token = models.CharField(max_length=43, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True,
                             blank=True, related_name="carts")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    checked_out_at = models.DateTimeField(null=True, blank=True)
    # The order this cart became (a second submit of the same cart finds it, not a new one).
    order = models.OneToOneField("shop.Order", on_delete=models.SET_NULL, null=True,
                                 blank=True, related_name="cart")

    class Meta:
        indexes = [models.Index(fields=["user", "checked_out_at"], name="cart_user_open")]

    def __str__(self) -> str:
        return f"Cart #{self.pk}"


class CartLine(models.Model):
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="lines")
    offer = models.ForeignKey("catalog.Offer", on_delete=models.CASCADE, related_name="+")
    quantity = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["pk"]
        constraints = [models.UniqueConstraint(fields=["cart", "offer"],
                                               name="cart_line_once_per_offer")]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.offer_id}"


# --- Quotes ------------------------------------------------------------------------------------


class QuoteStatus(models.TextChoices):
    REQUESTED = "demande", _("Demandé")
    DRAFT = "brouillon", _("Brouillon")
    SENT = "envoye", _("Envoyé")
    ACCEPTED = "accepte", _("Accepté")
    DECLINED = "refuse", _("Refusé")
    EXPIRED = "expire", _("Expiré")
    CANCELLED = "annule", _("Annulé")


QUOTE_TRANSITIONS: dict[str, set[str]] = {
    QuoteStatus.REQUESTED: {QuoteStatus.DRAFT, QuoteStatus.SENT, QuoteStatus.CANCELLED},
    QuoteStatus.DRAFT: {QuoteStatus.SENT, QuoteStatus.CANCELLED},
    QuoteStatus.SENT: {QuoteStatus.ACCEPTED, QuoteStatus.DECLINED, QuoteStatus.EXPIRED,
                       QuoteStatus.DRAFT, QuoteStatus.CANCELLED},
    QuoteStatus.EXPIRED: {QuoteStatus.DRAFT, QuoteStatus.CANCELLED},
    QuoteStatus.DECLINED: {QuoteStatus.DRAFT},
    QuoteStatus.ACCEPTED: set(),
    QuoteStatus.CANCELLED: set(),
}


class Quote(models.Model):
    reference = models.CharField(_("référence"), max_length=20, unique=True)
    account = models.ForeignKey("accounts.ClientAccount", on_delete=models.PROTECT, null=True,
                                blank=True, related_name="quotes")
    status = models.CharField(_("statut"), max_length=10, choices=QuoteStatus.choices,
                              default=QuoteStatus.REQUESTED)
    # The request, as the visitor or client typed it.
    requester_name = models.CharField(_("nom"), max_length=150)
    requester_email = models.EmailField(_("e-mail"))
    requester_phone = models.CharField(_("téléphone"), max_length=30, blank=True)
    company = models.CharField(_("entreprise"), max_length=200, blank=True)
    customer_kind = models.CharField(_("type de client"), max_length=14,
                                     choices=CustomerKind.choices, default=CustomerKind.PRO)
    sector = models.CharField(_("secteur"), max_length=16, blank=True)
    needs = models.TextField(_("besoins"), blank=True)
    expected_volume = models.CharField(_("volume d'appels attendu"), max_length=120, blank=True)
    hours = models.CharField(_("plages horaires souhaitées"), max_length=200, blank=True)
    # Built by staff.
    message = models.TextField(_("message au client"), blank=True)
    valid_until = models.DateField(_("valable jusqu'au"), null=True, blank=True)
    token = models.CharField(max_length=43, unique=True)  # the client's link, no login needed
    total_ht_cents = models.IntegerField(default=0)
    total_vat_cents = models.IntegerField(default=0)
    total_ttc_cents = models.IntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                     null=True, blank=True, related_name="+")
    sent_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    response_due_at = models.DateTimeField(null=True, blank=True)  # 24–48 business hours
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("devis")
        verbose_name_plural = _("devis")
        indexes = [models.Index(fields=["status", "valid_until"], name="quote_status_valid")]

    def __str__(self) -> str:
        return self.reference


class QuoteLine(models.Model):
    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="lines")
    offer = models.ForeignKey("catalog.Offer", on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+")
    label = models.CharField(_("libellé"), max_length=200)
    quantity = models.PositiveIntegerField(_("quantité"), default=1)
    unit_price_cents = models.PositiveIntegerField(_("prix unitaire HT (centimes)"))
    discount_percent = models.DecimalField(_("remise (%)"), max_digits=5, decimal_places=2,
                                           default=Decimal("0"))
    vat_rate = models.DecimalField(_("TVA (%)"), max_digits=5, decimal_places=2,
                                   default=Decimal("20.00"))
    recurring = models.BooleanField(_("mensuel"), default=False)
    total_ht_cents = models.IntegerField(default=0)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.label


class QuoteStatusChange(StatusHistory):
    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="history")
    from_status = models.CharField(max_length=10, blank=True)
    to_status = models.CharField(max_length=10)


class OrderStatus(models.TextChoices):
    AWAITING_PAYMENT = "attente_paiement", _("En attente de paiement")
    PAYMENT_PROCESSING = "paiement_en_cours", _("Paiement en cours")
    PAID = "payee", _("Payée")
    VALIDATED = "validee", _("Validée")
    ACTIVATED = "activee", _("Activée")
    CANCELLED = "annulee", _("Annulée")
    REFUNDED = "remboursee", _("Remboursée")
    FAILED = "echec", _("Paiement en échec")


ORDER_TRANSITIONS: dict[str, set[str]] = {
    OrderStatus.AWAITING_PAYMENT: {OrderStatus.PAYMENT_PROCESSING, OrderStatus.PAID,
                                   OrderStatus.FAILED, OrderStatus.CANCELLED},
    OrderStatus.PAYMENT_PROCESSING: {OrderStatus.PAID, OrderStatus.FAILED,
                                     OrderStatus.CANCELLED},
    # A failed payment can be retried (new checkout) or paid by transfer.
    OrderStatus.FAILED: {OrderStatus.AWAITING_PAYMENT, OrderStatus.PAYMENT_PROCESSING,
                         OrderStatus.PAID, OrderStatus.CANCELLED},
    OrderStatus.PAID: {OrderStatus.VALIDATED, OrderStatus.REFUNDED, OrderStatus.CANCELLED},
    OrderStatus.VALIDATED: {OrderStatus.ACTIVATED, OrderStatus.REFUNDED, OrderStatus.CANCELLED},
    OrderStatus.ACTIVATED: {OrderStatus.REFUNDED},
    OrderStatus.CANCELLED: {OrderStatus.REFUNDED},  # a paid order cancelled, then refunded
    OrderStatus.REFUNDED: set(),
}


class PaymentMethod(models.TextChoices):
    CARD = "carte", _("Carte bancaire")
    SEPA = "sepa", _("Prélèvement SEPA")
    TRANSFER = "virement", _("Virement")


class Order(models.Model):
    reference = models.CharField(_("référence"), max_length=20, unique=True)
    account = models.ForeignKey("accounts.ClientAccount", on_delete=models.PROTECT,
                                related_name="orders")
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                              blank=True, related_name="orders")
    status = models.CharField(_("statut"), max_length=18, choices=OrderStatus.choices,
                              default=OrderStatus.AWAITING_PAYMENT)
    customer_kind = models.CharField(_("type de client"), max_length=14,
                                     choices=CustomerKind.choices, default=CustomerKind.PRO)
    # Billing details as given at checkout (snapshot; the account may change later).
    billing_name = models.CharField(_("nom"), max_length=150)
    billing_legal_name = models.CharField(_("raison sociale"), max_length=200, blank=True)
    billing_siret = models.CharField(_("SIRET"), max_length=14, blank=True)
    billing_vat_number = models.CharField(_("n° TVA"), max_length=20, blank=True)
    billing_address = models.TextField(_("adresse de facturation"))
    billing_email = models.EmailField(_("e-mail de facturation"))
    billing_phone = models.CharField(_("téléphone"), max_length=30, blank=True)
    terms = models.ForeignKey("catalog.TermsVersion", on_delete=models.PROTECT, null=True,
                              blank=True, related_name="+")
    terms_accepted_at = models.DateTimeField(null=True, blank=True)
    # Consumers: 14-day withdrawal right, and the explicit request to start before its end.
    withdrawal_ends_at = models.DateTimeField(null=True, blank=True)
    start_before_withdrawal_end = models.BooleanField(default=False)
    payment_method = models.CharField(_("moyen de paiement"), max_length=10,
                                      choices=PaymentMethod.choices, default=PaymentMethod.CARD)
    transfer_reference = models.CharField(_("référence de virement"), max_length=30,
                                          blank=True, db_index=True)
    total_ht_cents = models.IntegerField(default=0)
    total_vat_cents = models.IntegerField(default=0)
    total_ttc_cents = models.IntegerField(default=0)
    recurring_ht_cents = models.IntegerField(default=0)  # monthly, from the 2nd month on
    # The validation clock starts when paid AND the client's information is complete.
    information_complete = models.BooleanField(default=True)
    information_completed_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    validation_due_at = models.DateTimeField(null=True, blank=True)
    validated_at = models.DateTimeField(null=True, blank=True)
    validated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                     null=True, blank=True, related_name="+")
    activation_due_at = models.DateTimeField(null=True, blank=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    activated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                     null=True, blank=True, related_name="+")
    closed_at = models.DateTimeField(null=True, blank=True)  # cancelled / refunded
    quote = models.ForeignKey(Quote, on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="orders")
    checked_at = models.DateTimeField(null=True, blank=True)  # seen by the daily check
    checked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")
    internal_notes = models.TextField(_("notes internes"), blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("commande")
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="order_recent"),
            models.Index(fields=["status", "-created_at"], name="order_status_recent"),
            models.Index(fields=["account", "-created_at"], name="order_account_recent"),
            models.Index(fields=["status", "validation_due_at"], name="order_validation_due"),
            models.Index(fields=["status", "activation_due_at"], name="order_activation_due"),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def due_at(self):  # type: ignore[no-untyped-def]
        """The deadline that matters now (validation or activation), if any."""
        if self.status == OrderStatus.PAID:
            return self.validation_due_at
        if self.status == OrderStatus.VALIDATED:
            return self.activation_due_at
        return None


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    offer = models.ForeignKey("catalog.Offer", on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+")
    label = models.CharField(max_length=200)
    quantity = models.PositiveIntegerField(default=1)
    unit_price_cents = models.PositiveIntegerField()
    discount_percent = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("0"))
    vat_rate = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("20.00"))
    recurring_cents = models.PositiveIntegerField(default=0)  # monthly price per unit, HT
    total_ht_cents = models.IntegerField(default=0)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.label


class ConsentPurpose(models.TextChoices):
    TERMS = PURPOSE_TERMS, _("Conditions générales de vente")
    PRIVACY = PURPOSE_PRIVACY, _("Politique de confidentialité")


class OrderConsent(models.Model):
    """What the buyer accepted when ordering: the wording ticked, the version of the text it
    refers to (the CGV's version; for the privacy notice core.consent.text_version of the
    wording and the notice as published then) and when. One row per purpose and order."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="consents")
    purpose = models.CharField(_("objet"), max_length=16, choices=ConsentPurpose.choices)
    version = models.CharField(_("version du texte"), max_length=40)
    text = models.CharField(_("texte accepté"), max_length=400)
    accepted_at = models.DateTimeField(_("accepté le"))

    class Meta:
        ordering = ["order", "purpose"]
        verbose_name = _("consentement à la commande")
        constraints = [models.UniqueConstraint(fields=["order", "purpose"],
                                               name="order_consent_once")]

    def __str__(self) -> str:
        return f"{self.order_id} {self.purpose} {self.version}"


class OrderStatusChange(StatusHistory):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="history")
    from_status = models.CharField(max_length=18, blank=True)
    to_status = models.CharField(max_length=18)


class OrderEvent(models.Model):
    """The order's timeline besides its status changes (those are OrderStatusChange): the
    daily check, the client's information, overdue alerts."""

    class Kind(models.TextChoices):
        CHECKED = "verifiee", _("Commande vérifiée")
        INFORMATION = "informations", _("Informations du client")
        VALIDATION_OVERDUE = "retard_validation", _("Délai de validation dépassé")
        ACTIVATION_OVERDUE = "retard_activation", _("Délai d'activation dépassé")
        # Validated before its checks were done, by a supervisor who gave the reason (note).
        CHECKS_OVERRIDDEN = "sans_controles", _("Validation sans contrôles complets")

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    note = models.CharField(max_length=300, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                              blank=True, related_name="+")
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["order", "kind", "at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.at:%Y-%m-%d %H:%M}"
