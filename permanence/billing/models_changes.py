"""Plan and option changes of a subscription (issue 12): what changed, when, and the prorated
difference for the rest of the period (billed or credited on the next invoice)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ChangeKind(models.TextChoices):
    PLAN = "formule", _("Changement de formule")
    OPTION_ADD = "option_ajout", _("Ajout d'option")
    OPTION_REMOVE = "option_retrait", _("Retrait d'option")


class SubscriptionChange(models.Model):
    subscription = models.ForeignKey("billing.Subscription", on_delete=models.CASCADE,
                                     related_name="changes")
    kind = models.CharField(max_length=16, choices=ChangeKind.choices, default=ChangeKind.PLAN)
    from_offer = models.ForeignKey("catalog.Offer", on_delete=models.PROTECT, null=True,
                                   blank=True, related_name="+")
    to_offer = models.ForeignKey("catalog.Offer", on_delete=models.PROTECT, null=True,
                                 blank=True, related_name="+")
    # Monthly prices HT (cents) before and after, the day the change takes effect, the
    # current period it falls in and the prorated difference for its remaining days (a
    # credit when negative).
    from_monthly_cents = models.PositiveIntegerField(default=0)
    to_monthly_cents = models.PositiveIntegerField(default=0)
    at = models.DateField()
    period_start = models.DateField()
    period_end = models.DateField()  # exclusive
    prorated_cents = models.IntegerField(default=0)
    # The invoice line that billed (or credited) `prorated_cents`; empty until invoiced.
    billed_invoice_line = models.ForeignKey("billing.InvoiceLine", on_delete=models.SET_NULL,
                                            null=True, blank=True, related_name="+")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                              blank=True, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("changement d'abonnement")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.at}"
