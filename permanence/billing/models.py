"""Subscriptions created when an order is activated (usage and invoices come later)."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

from permanence.core.models import StatusHistory


class SubscriptionStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    SUSPENDED = "suspendue", _("Suspendue")
    CANCELLED = "resiliee", _("Résiliée")


SUBSCRIPTION_TRANSITIONS: dict[str, set[str]] = {
    SubscriptionStatus.ACTIVE: {SubscriptionStatus.SUSPENDED, SubscriptionStatus.CANCELLED},
    SubscriptionStatus.SUSPENDED: {SubscriptionStatus.ACTIVE, SubscriptionStatus.CANCELLED},
    SubscriptionStatus.CANCELLED: set(),
}


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
