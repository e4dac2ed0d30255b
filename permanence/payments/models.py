"""Payments through providers (Stripe hosted Checkout, bank transfer) and the provider
events (webhooks) stored before they are processed."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from permanence.core.models import StatusHistory


class PaymentStatus(models.TextChoices):
    PENDING = "en_attente", _("En attente")
    PROCESSING = "en_cours", _("En cours (prélèvement SEPA)")
    SUCCEEDED = "reussi", _("Réussi")
    FAILED = "echec", _("Échec")
    CANCELLED = "annule", _("Annulé")
    REFUNDED = "rembourse", _("Remboursé")
    # A debit that succeeded and came back weeks later (SEPA: the payer's bank reverses it,
    # Stripe opens a dispute, `charge.dispute.created`): the money is gone again.
    RETURNED = "retourne", _("Retourné (rejet ou contestation)")


# Provider events may arrive in any order: a payment only moves forward. A failed or expired
# (cancelled) payment can still succeed — the buyer tried another card on the same page, a late
# event — and a refund is final, whatever the payment's state when its event arrives.
PAYMENT_TRANSITIONS: dict[str, set[str]] = {
    PaymentStatus.PENDING: {PaymentStatus.PROCESSING, PaymentStatus.SUCCEEDED,
                            PaymentStatus.FAILED, PaymentStatus.CANCELLED,
                            PaymentStatus.REFUNDED},
    PaymentStatus.PROCESSING: {PaymentStatus.SUCCEEDED, PaymentStatus.FAILED,
                               PaymentStatus.REFUNDED},
    PaymentStatus.SUCCEEDED: {PaymentStatus.REFUNDED, PaymentStatus.RETURNED},
    PaymentStatus.FAILED: {PaymentStatus.SUCCEEDED, PaymentStatus.REFUNDED},
    PaymentStatus.CANCELLED: {PaymentStatus.SUCCEEDED, PaymentStatus.REFUNDED},
    PaymentStatus.REFUNDED: set(),
    PaymentStatus.RETURNED: set(),
}


class Provider(models.TextChoices):
    STRIPE = "stripe", _("Stripe")
    TRANSFER = "virement", _("Virement")


class Payment(models.Model):
    # A storefront payment pays an order; a payment of an issued invoice (charged off
    # session at its due date, paid through its retry link, a matched transfer) has no order
    # but the invoice's number (payments sits below billing: a number, not a foreign key).
    order = models.ForeignKey("shop.Order", on_delete=models.PROTECT, related_name="payments",
                              null=True, blank=True)
    invoice_number = models.CharField(max_length=20, blank=True, db_index=True)
    provider = models.CharField(max_length=10, choices=Provider.choices)
    method = models.CharField(max_length=10, choices=[
        ("carte", _("Carte bancaire")), ("sepa", _("Prélèvement SEPA")),
        ("virement", _("Virement"))])  # shop.models.PaymentMethod
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
        verbose_name = _("paiement")

    def __str__(self) -> str:
        return f"{self.provider} {self.amount_cents} ({self.status})"


class PaymentStatusChange(StatusHistory):
    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="history")
    from_status = models.CharField(max_length=10, blank=True)
    to_status = models.CharField(max_length=10)


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


class ProviderCallKind(models.TextChoices):
    CHECKOUT_SESSION = "checkout", _("Session de paiement")
    REFUND = "refund", _("Remboursement")
    # An off-session PaymentIntent (confirm=true) charging a saved card / SEPA mandate.
    PAYMENT_INTENT = "intent", _("Prélèvement du moyen de paiement enregistré")


class ProviderCallStatus(models.TextChoices):
    # Written and committed before the call is made; still so while it runs, or when the
    # process died during it. The outcome is unknown: the next try sends the same request with
    # the same idempotency key, and the provider answers as it did (or would have) the first time.
    PENDING = "en_attente", _("Envoyé, réponse non enregistrée")
    # No answer (network error, time-out, provider unavailable): retried with the same key.
    UNANSWERED = "sans_reponse", _("Sans réponse, à réessayer")
    # The provider answered with an error. The provider keeps an answered request's result
    # under its key (errors included), so for a Checkout Session the next try is a new attempt
    # with a new key; a refund keeps its one key per payment.
    REFUSED = "refuse", _("Refusé par le prestataire")
    SUCCEEDED = "reussi", _("Réussi")


class ProviderCall(models.Model):
    """A request to the payment provider that creates something there (a Checkout Session, a
    refund), written and committed BEFORE it is sent, then completed with the answer in a
    second short transaction: no network call is made while a database transaction is open
    (ARCHITECTURE.md, "Side effects"). The idempotency key and the stored parameters make a
    retry safe: the same request again, never a second session or refund."""

    provider = models.CharField(max_length=10, choices=Provider.choices,
                                default=Provider.STRIPE)
    kind = models.CharField(max_length=10, choices=ProviderCallKind.choices)
    status = models.CharField(max_length=12, choices=ProviderCallStatus.choices,
                              default=ProviderCallStatus.PENDING)
    # SET_NULL: a checkout undone after its payment could not start deletes its order; the
    # call stays as the trace of what was asked.
    order = models.ForeignKey("shop.Order", on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="provider_calls")
    # Checkout Session: the Payment created from the answer. Refund: the payment refunded.
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="provider_calls")
    method = models.CharField(max_length=10, blank=True)
    # The invoice a PaymentIntent or an invoice's Checkout Session pays (see Payment).
    invoice_number = models.CharField(max_length=20, blank=True, db_index=True)
    attempt = models.PositiveIntegerField(default=1)
    amount_cents = models.IntegerField()
    idempotency_key = models.CharField(max_length=64, unique=True)
    # Sent as is on every try: a key may only be reused with the same parameters.
    params = models.JSONField(default=dict)
    tries = models.PositiveIntegerField(default=0)
    response_id = models.CharField(max_length=120, blank=True)  # cs_…, re_…, pi_…
    response = models.JSONField(default=dict, blank=True)
    error = models.CharField(max_length=300, blank=True)
    actor = models.ForeignKey("accounts.User", on_delete=models.SET_NULL, null=True,
                              blank=True, related_name="+")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["order", "kind", "status"],
                                name="provider_call_order")]

    def __str__(self) -> str:
        return f"{self.provider} {self.kind} {self.idempotency_key} ({self.status})"
