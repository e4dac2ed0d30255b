"""SMS in and out, opt-outs (STOP), and the provider events stored before they are
acknowledged."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Direction(models.TextChoices):
    OUT = "out", _("Envoyé")
    IN = "in", _("Reçu")


class SmsStatus(models.TextChoices):
    QUEUED = "queued", _("En file")
    SENT = "sent", _("Envoyé")
    DELIVERED = "delivered", _("Délivré")
    FAILED = "failed", _("Échec")
    RECEIVED = "received", _("Reçu")


# Receipts arrive in any order ("delivered" before "sent"): a status only moves forward; a
# move the table refuses is ignored. "delivered" and "failed" are final.
SMS_TRANSITIONS: dict[str, set[str]] = {
    SmsStatus.QUEUED: {SmsStatus.SENT, SmsStatus.DELIVERED, SmsStatus.FAILED},
    SmsStatus.SENT: {SmsStatus.DELIVERED, SmsStatus.FAILED},
    SmsStatus.DELIVERED: set(),
    SmsStatus.FAILED: set(),
    SmsStatus.RECEIVED: set(),
}


class Provider(models.TextChoices):
    FILE = "file", _("Fichiers (démonstration)")
    TWILIO = "twilio", _("Twilio")
    BREVO = "brevo", _("Brevo")


class Sms(models.Model):
    """One SMS, sent or received. An outgoing one is the outbox row: written "queued" in the
    sender's transaction, claimed by a worker (conditional UPDATE on `claimed_at`), sent with
    no transaction open, its provider id and later receipts recorded."""

    direction = models.CharField(max_length=3, choices=Direction.choices)
    account = models.ForeignKey("accounts.ClientAccount", null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+")
    from_number = models.CharField(_("de"), max_length=32, blank=True)
    to_number = models.CharField(_("à"), max_length=32)
    body = models.TextField(_("texte"))
    encoding = models.CharField(max_length=8)
    segments = models.PositiveSmallIntegerField(default=1)
    status = models.CharField(_("statut"), max_length=10, choices=SmsStatus.choices)
    reason = models.CharField(_("motif"), max_length=300, blank=True)
    provider = models.CharField(max_length=10, choices=Provider.choices)
    provider_message_id = models.CharField(max_length=64, blank=True)
    # Who asked for it, e.g. "desk.forward:12" or "inbox.reply:345": status listeners and the
    # reply channel find their SMS by it.
    ref = models.CharField(max_length=100, blank=True, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("SMS")
        verbose_name_plural = _("SMS")
        constraints = [
            models.UniqueConstraint(fields=["provider", "provider_message_id"],
                                    condition=~models.Q(provider_message_id=""),
                                    name="sms_provider_message_once"),
        ]
        indexes = [
            # The sweep: queued SMS whose provider call was lost.
            models.Index(fields=["status", "created_at"], name="sms_status_created"),
        ]

    def __str__(self) -> str:
        return f"SMS #{self.pk} {self.to_number} {self.status}"


class OptOut(models.Model):
    """A number that sent STOP (or ARRET) to an account's number: no more SMS from that
    account to it until it sends START. `account` null: a provider-wide opt-out (a shared
    sender such as Brevo's, whose STOP reaches no one account)."""

    account = models.ForeignKey("accounts.ClientAccount", null=True, blank=True,
                                on_delete=models.CASCADE, related_name="+")
    number = models.CharField(max_length=32)
    keyword = models.CharField(max_length=16)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "number"], name="sms_optout_once"),
            models.UniqueConstraint(fields=["number"], condition=models.Q(account__isnull=True),
                                    name="sms_optout_global_once"),
        ]

    def __str__(self) -> str:
        return f"{self.number} ({self.keyword})"


class EventKind(models.TextChoices):
    STATUS = "status", _("Accusé de réception")
    INBOUND = "inbound", _("SMS reçu")


class SmsEvent(models.Model):
    """A provider webhook (receipt or inbound SMS), signature checked, stored before it is
    acknowledged; processed by the worker; unique per provider event key, so a redelivery
    is acknowledged without a second effect."""

    provider = models.CharField(max_length=10, choices=Provider.choices)
    event_key = models.CharField(max_length=120)
    kind = models.CharField(max_length=8, choices=EventKind.choices)
    payload = models.JSONField()
    received_at = models.DateTimeField()
    processed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    outcome = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["received_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["provider", "event_key"],
                                               name="sms_event_once")]
        indexes = [models.Index(fields=["processed_at", "received_at"],
                                name="sms_event_pending")]

    def __str__(self) -> str:
        return f"{self.provider} {self.event_key}"
