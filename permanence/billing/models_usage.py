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

    class Meta:
        ordering = ["-occurred_at", "-pk"]
        indexes = [models.Index(fields=["account", "metric", "occurred_at"])]
        constraints = [models.CheckConstraint(condition=models.Q(quantity__gt=0),
                                              name="usage_quantity_positive")]

    def __str__(self) -> str:
        return f"{self.metric} {self.quantity} ({self.source_id})"


class UsageMark(models.Model):
    """How far an account's usage is billed: every record that occurred before
    `billed_before` AND whose id is at most `billed_upto_id` is on an invoice already.

    The invoicing run moves the mark once per invoice instead of updating each record it
    bills (millions of rows a month). The id bound makes it exact under concurrency: the run
    reads the highest id once every insert holding a lower one has committed
    (invoicing.usage_high_water), so a record that occurred in a billed period but was
    recorded late has a higher id and is billed by the next invoice."""

    account = models.OneToOneField("accounts.ClientAccount", on_delete=models.PROTECT,
                                   primary_key=True, related_name="usage_mark")
    billed_before = models.DateTimeField()
    billed_upto_id = models.BigIntegerField()
    invoice = models.ForeignKey("billing.Invoice", on_delete=models.PROTECT, null=True,
                                blank=True, related_name="+")
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.account_id}: < {self.billed_before:%Y-%m-%d}, id ≤ {self.billed_upto_id}"


class MeteringCursor(models.Model):
    """How far billing.metering has read one source of work (calls, forwards…): the highest
    id read, and the ids read but not settled yet (a call in progress, a queued forward)."""

    source = models.CharField(max_length=40, unique=True)
    last_id = models.BigIntegerField(default=0)
    pending = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.source} → {self.last_id}"


class UsageAlert(models.Model):
    """A consumption alert e-mailed to the account's billing address: once per subscription,
    period, metric and threshold (80 or 100 %)."""

    subscription = models.ForeignKey("billing.Subscription", on_delete=models.CASCADE,
                                     related_name="usage_alerts")
    metric = models.CharField(max_length=16, choices=Metric.choices)
    period_start = models.DateField()
    threshold = models.PositiveSmallIntegerField()  # percent
    sent_to = models.EmailField(blank=True)
    sent_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(
            fields=["subscription", "metric", "period_start", "threshold"],
            name="usage_alert_once")]

    def __str__(self) -> str:
        return f"{self.metric} {self.threshold}% ({self.period_start})"
