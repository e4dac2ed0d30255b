"""Usage metered from the real work: one record per source event (idempotent by source id)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Metric(models.TextChoices):
    CALLS = "calls", _("Appels traités")
    CALL_MINUTES = "call_minutes", _("Minutes d'appel")
    MESSAGES = "messages", _("Messages transmis")
    SMS = "sms", _("SMS envoyés")
    APPOINTMENTS = "appointments", _("Rendez-vous pris")
    EMAILS = "emails", _("E-mails traités")
    CHATS = "chats", _("Chats traités")


class UsageRecord(models.Model):
    account = models.ForeignKey("accounts.ClientAccount", on_delete=models.PROTECT,
                                related_name="usage_records")
    metric = models.CharField(max_length=16, choices=Metric.choices)
    quantity = models.DecimalField(max_digits=12, decimal_places=2)
    occurred_at = models.DateTimeField()
    # "call:123", "appointment:45", or what an API client sends: never counted twice.
    source_id = models.CharField(max_length=200, unique=True)
    recorded_at = models.DateTimeField()
    invoice_line = models.ForeignKey("billing.InvoiceLine", on_delete=models.SET_NULL,
                                     null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["-occurred_at", "-pk"]
        indexes = [models.Index(fields=["account", "metric", "occurred_at"])]
        constraints = [models.CheckConstraint(condition=models.Q(quantity__gt=0),
                                              name="usage_quantity_positive")]

    def __str__(self) -> str:
        return f"{self.metric} {self.quantity} ({self.source_id})"
