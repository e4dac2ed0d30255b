"""Payments through providers (Stripe hosted Checkout, bank transfer) and the provider
events (webhooks) stored before they are processed."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class PaymentStatus(models.TextChoices):
    PENDING = "en_attente", _("En attente")
    PROCESSING = "en_cours", _("En cours (prélèvement SEPA)")
    SUCCEEDED = "reussi", _("Réussi")
    FAILED = "echec", _("Échec")
    CANCELLED = "annule", _("Annulé")
    REFUNDED = "rembourse", _("Remboursé")


class Provider(models.TextChoices):
    STRIPE = "stripe", _("Stripe")
    TRANSFER = "virement", _("Virement bancaire")


class Payment(models.Model):
    order = models.ForeignKey("shop.Order", on_delete=models.PROTECT, related_name="payments")
    provider = models.CharField(max_length=10, choices=Provider.choices)
    method = models.CharField(max_length=10, choices=[
        ("carte", _("Carte bancaire")), ("sepa", _("Prélèvement SEPA")),
        ("virement", _("Virement bancaire"))])  # shop.models.PaymentMethod
    status = models.CharField(max_length=10, choices=PaymentStatus.choices,
                              default=PaymentStatus.PENDING)
    amount_cents = models.IntegerField()
    currency = models.CharField(max_length=3, default="EUR")
    idempotency_key = models.CharField(max_length=64, unique=True)
    # 1, 2, ... per order: a retry after a failure is a new attempt (new key, new session).
    attempt = models.PositiveIntegerField(default=1)
    provider_session_id = models.CharField(max_length=120, null=True, blank=True, unique=True)
    provider_payment_id = models.CharField(max_length=120, blank=True, db_index=True)
    provider_customer_id = models.CharField(max_length=120, blank=True)
    provider_payment_method_id = models.CharField(max_length=120, blank=True)
    checkout_url = models.URLField(max_length=500, blank=True)
    failure_message = models.CharField(max_length=300, blank=True)
    refunded_cents = models.IntegerField(default=0)
    # Bank transfer matched by billing staff: who, when, the bank's label.
    matched_by = models.ForeignKey("accounts.User", on_delete=models.SET_NULL, null=True,
                                   blank=True, related_name="+")
    bank_label = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)
    succeeded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.provider} {self.amount_cents} ({self.status})"


class ProviderEvent(models.Model):
    """A webhook event, stored (signature verified) before it is acknowledged; processed by
    the worker; unique per provider event id so a redelivery is a no-op."""

    provider = models.CharField(max_length=10, choices=Provider.choices)
    event_id = models.CharField(max_length=120)
    type = models.CharField(max_length=80)
    payload = models.JSONField()
    created = models.DateTimeField(null=True, blank=True)  # the provider's own timestamp
    received_at = models.DateTimeField()
    processed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    # What processing did ("payment succeeded, order paid", "ignored: ..."), for the staff log.
    outcome = models.CharField(max_length=200, blank=True)
    payment = models.ForeignKey(Payment, on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="events")

    class Meta:
        ordering = ["received_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["provider", "event_id"],
                                               name="provider_event_once")]
        indexes = [models.Index(fields=["processed_at", "received_at"],
                                name="provider_event_pending")]

    def __str__(self) -> str:
        return f"{self.provider} {self.event_id} {self.type}"
