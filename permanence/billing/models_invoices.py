"""Invoices and credit notes (avoirs): legal French documents, numbered without gaps and
never changed once issued.

Every row here is issued: previews are computed in memory and never stored. The number is
taken from `InvoiceSequence` (one row per series and year, locked) in the issuing
transaction, so numbers have no gap and no duplicate. Once written, the content of an invoice
and of its lines cannot change: database triggers (migration 0006) refuse any UPDATE of its
content columns and any DELETE, on PostgreSQL and SQLite alike; `content_hash` (SHA-256 of
the canonical content) and `pdf_sha256` let an auditor check the archive. Only the payment
status, the amount paid and the e-invoicing platform's lifecycle status move afterwards; a
mistake is corrected by a credit note citing the invoice."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from permanence.core.models import StatusHistory


class DocumentKind(models.TextChoices):
    INVOICE = "facture", _("Facture")
    CREDIT_NOTE = "avoir", _("Avoir")


class InvoiceStatus(models.TextChoices):
    ISSUED = "emise", _("Émise")
    PARTLY_PAID = "partielle", _("Partiellement payée")
    PAID = "payee", _("Payée")
    OVERDUE = "en_retard", _("En retard")
    CREDITED = "annulee", _("Annulée par avoir")


INVOICE_TRANSITIONS: dict[str, set[str]] = {
    InvoiceStatus.ISSUED: {InvoiceStatus.PARTLY_PAID, InvoiceStatus.PAID,
                           InvoiceStatus.OVERDUE, InvoiceStatus.CREDITED},
    InvoiceStatus.PARTLY_PAID: {InvoiceStatus.PAID, InvoiceStatus.OVERDUE,
                                InvoiceStatus.CREDITED, InvoiceStatus.ISSUED},
    InvoiceStatus.OVERDUE: {InvoiceStatus.PARTLY_PAID, InvoiceStatus.PAID,
                            InvoiceStatus.CREDITED},
    # A payment returned weeks later (SEPA) reopens a paid invoice.
    InvoiceStatus.PAID: {InvoiceStatus.ISSUED, InvoiceStatus.PARTLY_PAID,
                         InvoiceStatus.OVERDUE, InvoiceStatus.CREDITED},
    InvoiceStatus.CREDITED: set(),
}


class InvoiceSequence(models.Model):
    """The last number given in a series (F: invoices, AV: credit notes) for a year."""

    series = models.CharField(max_length=4)
    year = models.PositiveIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["series", "year"],
                                               name="invoice_sequence_unique")]

    def __str__(self) -> str:
        return f"{self.series}{self.year}: {self.last}"


class LineKind(models.TextChoices):
    BASE = "base", _("Abonnement")
    OPTION = "option", _("Option")
    OVERAGE = "depassement", _("Dépassement")
    USAGE = "usage", _("Consommation")
    ONE_OFF = "ponctuel", _("Prestation ponctuelle")
    PRORATION = "prorata", _("Prorata")
    DISCOUNT = "remise", _("Remise")
    CREDIT = "avoir", _("Avoir")


class Invoice(models.Model):
    kind = models.CharField(_("type"), max_length=8, choices=DocumentKind.choices,
                            default=DocumentKind.INVOICE)
    number = models.CharField(_("numéro"), max_length=20, unique=True)
    account = models.ForeignKey("accounts.ClientAccount", on_delete=models.PROTECT,
                                related_name="invoices")
    subscription = models.ForeignKey("billing.Subscription", on_delete=models.PROTECT,
                                     null=True, blank=True, related_name="invoices")
    order = models.ForeignKey("shop.Order", on_delete=models.PROTECT, null=True, blank=True,
                              related_name="invoices")
    # A credit note cites the invoice it corrects.
    credit_of = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="credit_notes")
    status = models.CharField(_("statut"), max_length=10, choices=InvoiceStatus.choices,
                              default=InvoiceStatus.ISSUED)
    issued_on = models.DateField(_("date d'émission"))
    period_start = models.DateField(_("début de période"), null=True, blank=True)
    period_end = models.DateField(_("fin de période"), null=True, blank=True)
    due_on = models.DateField(_("échéance"))
    # Who sold and who bought, as they were at issue (identity, SIREN/SIRET, VAT, address).
    seller = models.JSONField(default=dict)
    buyer = models.JSONField(default=dict)
    currency = models.CharField(max_length=3, default="EUR")
    total_ht_cents = models.IntegerField(default=0)
    total_vat_cents = models.IntegerField(default=0)
    total_ttc_cents = models.IntegerField(default=0)
    # Per VAT rate: [{"rate": "20.00", "base_cents": …, "vat_cents": …}].
    vat_breakdown = models.JSONField(default=list)
    mentions = models.JSONField(default=dict)  # legal texts as printed (terms, penalties…)
    reason = models.CharField(_("motif"), max_length=300, blank=True)  # credit notes
    complaint_conversation_id = models.BigIntegerField(null=True, blank=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, blank=True, related_name="+")
    content_hash = models.CharField(max_length=64)
    facturx_xml = models.TextField(blank=True)
    pdf = models.FileField(upload_to="invoices/%Y/", blank=True)
    pdf_sha256 = models.CharField(max_length=64, blank=True)
    # What moves after issue: payments, and the e-invoicing platform's lifecycle.
    paid_cents = models.IntegerField(default=0)
    platform_status = models.CharField(max_length=20, blank=True)
    platform_status_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-issued_on", "-number"]
        verbose_name = _("facture")
        verbose_name_plural = _("factures")
        indexes = [models.Index(fields=["account", "-issued_on"]),
                   models.Index(fields=["status", "due_on"])]
        constraints = [models.CheckConstraint(
            condition=models.Q(total_ttc_cents=models.F("total_ht_cents")
                               + models.F("total_vat_cents")),
            name="invoice_ttc_is_ht_plus_vat")]

    def __str__(self) -> str:
        return self.number

    @property
    def balance_cents(self) -> int:
        return self.total_ttc_cents - self.paid_cents


class InvoiceLine(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="lines")
    position = models.PositiveIntegerField()
    kind = models.CharField(max_length=12, choices=LineKind.choices, default=LineKind.BASE)
    label = models.CharField(max_length=300)
    quantity = models.DecimalField(max_digits=14, decimal_places=3, default=Decimal(1))
    unit = models.CharField(max_length=8, default="C62")  # UN/ECE rec 20: C62 one, HUR, MIN
    unit_price_cents = models.IntegerField()
    vat_rate = models.DecimalField(max_digits=5, decimal_places=2)
    total_ht_cents = models.IntegerField()
    period_start = models.DateField(null=True, blank=True)
    period_end = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["invoice", "position"]
        constraints = [models.UniqueConstraint(fields=["invoice", "position"],
                                               name="invoice_line_position_unique")]

    def __str__(self) -> str:
        return self.label


class InvoiceStatusChange(StatusHistory):
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="history")
    from_status = models.CharField(max_length=10, blank=True)
    to_status = models.CharField(max_length=10)
