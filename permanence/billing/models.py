"""Subscriptions, created when an order is activated; usage records (models_usage) and
invoices (models_invoices) live beside them."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

from permanence.core.models import StatusHistory


class SubscriptionStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    SUSPENDED = "suspendue", _("Suspendue")
    CANCEL_SCHEDULED = "resiliation", _("Résiliation programmée")
    CANCELLED = "resiliee", _("Résiliée")
    PAYMENT_DEFAULT = "defaut", _("En défaut de paiement")


SUBSCRIPTION_TRANSITIONS: dict[str, set[str]] = {
    SubscriptionStatus.ACTIVE: {SubscriptionStatus.SUSPENDED, SubscriptionStatus.CANCELLED,
                                SubscriptionStatus.CANCEL_SCHEDULED,
                                SubscriptionStatus.PAYMENT_DEFAULT},
    SubscriptionStatus.SUSPENDED: {SubscriptionStatus.ACTIVE, SubscriptionStatus.CANCELLED,
                                   SubscriptionStatus.CANCEL_SCHEDULED},
    # Withdrawn before its date (active again), or reached (résiliée).
    SubscriptionStatus.CANCEL_SCHEDULED: {SubscriptionStatus.ACTIVE,
                                          SubscriptionStatus.CANCELLED,
                                          SubscriptionStatus.PAYMENT_DEFAULT},
    SubscriptionStatus.PAYMENT_DEFAULT: {SubscriptionStatus.ACTIVE,
                                         SubscriptionStatus.SUSPENDED,
                                         SubscriptionStatus.CANCELLED},
    SubscriptionStatus.CANCELLED: set(),
}


class BillingPeriod(models.TextChoices):
    MONTHLY = "mensuel", _("Mensuelle")
    ANNUAL = "annuel", _("Annuelle")


class Subscription(models.Model):
    account = models.ForeignKey("accounts.ClientAccount", on_delete=models.PROTECT,
                                related_name="subscriptions")
    offer = models.ForeignKey("catalog.Offer", on_delete=models.PROTECT, related_name="+")
    order = models.ForeignKey("shop.Order", on_delete=models.PROTECT,
                              related_name="subscriptions")
    status = models.CharField(_("statut"), max_length=12, choices=SubscriptionStatus.choices,
                              default=SubscriptionStatus.ACTIVE)
    label = models.CharField(_("libellé"), max_length=200)
    quantity = models.PositiveIntegerField(default=1)
    # Snapshot of the prices agreed at order time (the catalog may change later).
    monthly_price_cents = models.PositiveIntegerField(default=0)
    unit_price_cents = models.PositiveIntegerField(default=0)
    included_quantity = models.PositiveIntegerField(default=0)
    vat_rate = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("20.00"))
    started_at = models.DateTimeField()
    commitment_ends_on = models.DateField(null=True, blank=True)
    # The plan's terms as agreed (issue 12): how it bills, what is included, at what price.
    plan_kind = models.CharField(_("type de formule"), max_length=10, blank=True)
    billing_period = models.CharField(_("périodicité"), max_length=8,
                                      choices=BillingPeriod.choices,
                                      default=BillingPeriod.MONTHLY)
    notice_days = models.PositiveIntegerField(_("préavis (jours)"), default=30)
    # Per metric (usage_records' metric): the quantity included each period, and the
    # price of each unit beyond it (or of each unit, for a per-act plan), in cents HT.
    included = models.JSONField(default=dict, blank=True)
    unit_prices = models.JSONField(default=dict, blank=True)
    hourly_rate_cents = models.PositiveIntegerField(default=0)
    increment_minutes = models.PositiveIntegerField(default=1)
    # Options taken with the plan: [{"offer": id, "label": …, "monthly_price_cents": …}].
    options = models.JSONField(default=list, blank=True)
    # The period being served (base fee billed in advance for it) and the next invoice date.
    current_period_start = models.DateField(null=True, blank=True)
    next_invoice_on = models.DateField(null=True, blank=True)
    # A scheduled cancellation's effective date; the renewal reminder sent for which date.
    ends_on = models.DateField(null=True, blank=True)
    renewal_reminded_for = models.DateField(null=True, blank=True)
    # A suspension's planned end (billing/subscriptions.py: resumed by the daily job).
    suspended_until = models.DateField(null=True, blank=True)
    # Saved payment method for recurring debits (provider ids only: no card data here).
    provider_customer_id = models.CharField(max_length=80, blank=True)
    provider_payment_method_id = models.CharField(max_length=80, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-started_at", "-pk"]
        verbose_name = _("abonnement")
        constraints = [models.UniqueConstraint(fields=["order", "offer"],
                                               name="subscription_once_per_order_offer")]

    def __str__(self) -> str:
        return self.label


class SubscriptionStatusChange(StatusHistory):
    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE,
                                     related_name="history")
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12)


# Models in their own modules, loaded with this one (Django finds models in `models`).
from .models_changes import ChangeKind, SubscriptionChange  # noqa: E402
from .models_credits import CommercialGesture, GestureUse, Refund  # noqa: E402
from .models_invoices import (  # noqa: E402
    Invoice,
    InvoiceLine,
    InvoiceSequence,
    InvoiceStatusChange,
)
from .models_schedules import Instalment, PaymentSchedule  # noqa: E402
from .models_usage import UsageRecord  # noqa: E402

__all__ = ["BillingPeriod", "ChangeKind", "CommercialGesture", "GestureUse", "Invoice", "InvoiceLine", "InvoiceSequence",
           "Instalment", "InvoiceStatusChange", "PaymentSchedule", "Refund", "Subscription", "SubscriptionChange", "SubscriptionStatus", "SubscriptionStatusChange",
           "UsageRecord"]
