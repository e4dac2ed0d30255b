"""What a credit note or a complaint gives back to a client: a refund through the payment
provider (linked to the credit note it settles), or a commercial gesture taken off the
account's next invoice(s). Both approved by the billing staff member who made them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class CommercialGesture(models.Model):
    """An amount HT taken off the account's next invoice (a « remise » line), carried to the
    following one for what an invoice could not absorb."""

    account = models.ForeignKey("accounts.ClientAccount", on_delete=models.PROTECT,
                                related_name="commercial_gestures")
    amount_ht_cents = models.PositiveIntegerField(_("montant HT"))
    remaining_cents = models.PositiveIntegerField()
    reason = models.CharField(_("motif"), max_length=300)
    complaint_conversation_id = models.BigIntegerField(null=True, blank=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["account", "remaining_cents"])]
        constraints = [models.CheckConstraint(
            condition=models.Q(remaining_cents__lte=models.F("amount_ht_cents")),
            name="gesture_remaining_within_amount")]

    def __str__(self) -> str:
        return f"{self.reason} ({self.amount_ht_cents / 100:.2f} € HT)"


class GestureUse(models.Model):
    """The part of a gesture one invoice line took off."""

    gesture = models.ForeignKey(CommercialGesture, on_delete=models.PROTECT, related_name="uses")
    line = models.OneToOneField("billing.InvoiceLine", on_delete=models.PROTECT,
                                related_name="gesture_use")
    amount_cents = models.PositiveIntegerField()

    def __str__(self) -> str:
        return f"{self.gesture_id} → {self.line_id}: {self.amount_cents / 100:.2f} €"


class RefundStatus(models.TextChoices):
    REQUESTED = "demande", _("Demandé au prestataire")
    PENDING = "en_cours", _("En cours")
    DONE = "effectue", _("Effectué")
    FAILED = "echec", _("Échec")


class RefundMethod(models.TextChoices):
    PROVIDER = "prestataire", _("Par le prestataire de paiement")
    TRANSFER = "virement", _("Par virement")
    IMPUTED = "imputation", _("Imputé sur la facture")


class Refund(models.Model):
    """How a credit note is settled, once: money given back through the provider (Stripe
    refund of the payment that paid the invoice) or by bank transfer (recorded by billing
    staff), or imputed on what was still due on the invoice it corrects."""

    credit_note = models.ForeignKey("billing.Invoice", on_delete=models.PROTECT,
                                    related_name="refunds")
    payment = models.ForeignKey("payments.Payment", on_delete=models.PROTECT, null=True,
                                blank=True, related_name="+")
    method = models.CharField(max_length=12, choices=RefundMethod.choices,
                              default=RefundMethod.PROVIDER)
    amount_cents = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=RefundStatus.choices,
                              default=RefundStatus.REQUESTED)
    provider_refund_id = models.CharField(max_length=120, blank=True)
    failure = models.CharField(max_length=300, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                              related_name="+")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [models.UniqueConstraint(
            fields=["credit_note"], condition=~models.Q(status="echec"),
            name="refund_once_per_credit_note")]

    def __str__(self) -> str:
        return f"{self.credit_note_id}: {self.amount_cents / 100:.2f} € ({self.status})"
