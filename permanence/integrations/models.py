"""Outgoing webhooks: endpoints (per account or global) and their delivery log."""

from __future__ import annotations

import secrets
import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from permanence.accounts.models import ClientAccount
from permanence.core.fields import SealableTextField


class WebhookEvent(models.TextChoices):
    CONVERSATION_CREATED = "conversation.created", _("Dossier créé")
    CONVERSATION_UPDATED = "conversation.updated", _("Dossier modifié")
    MESSAGE_CREATED = "message.created", _("Nouveau message")
    SLA_BREACHED = "sla.breached", _("Échéance dépassée")


def new_webhook_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


class WebhookEndpoint(models.Model):
    """A URL that receives signed POSTs. account=None: every account's events (global)."""

    account = models.ForeignKey(ClientAccount, null=True, blank=True, on_delete=models.CASCADE,
                                related_name="webhook_endpoints",
                                verbose_name=_("compte client"))
    url = models.URLField(_("URL"), max_length=500)
    description = models.CharField(_("description"), max_length=200, blank=True)
    # Kept in clear: it signs every request (HMAC). Shown to administrators only.
    # The signing key we must use again: stored encrypted (core.crypto), like CalDAV's.
    secret = SealableTextField(_("secret"), default=new_webhook_secret, always=True)
    events = models.JSONField(_("événements"), default=list)
    is_active = models.BooleanField(_("actif"), default=True)
    # SSRF guard override: deliver to private, loopback or link-local addresses.
    allow_private = models.BooleanField(_("autoriser les adresses privées"), default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("webhook")

    def __str__(self) -> str:
        return self.url

    def wants(self, event: str) -> bool:
        return self.is_active and event in (self.events or [])


class WebhookDelivery(models.Model):
    """One event for one endpoint; retried with back-off until sent or failed."""

    class Status(models.TextChoices):
        PENDING = "pending", _("En attente")
        SENT = "sent", _("Envoyé")
        FAILED = "failed", _("Échec")

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE,
                                 related_name="deliveries")
    event = models.CharField(max_length=40, choices=WebhookEvent.choices)
    # The same for every endpoint receiving this event, and kept by a manual redelivery:
    # receivers de-duplicate on it (X-Permanence-Delivery).
    event_id = models.UUIDField(default=uuid.uuid4, db_index=True)
    payload = models.JSONField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("envoi de webhook")
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["endpoint", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint_id} ({self.status})"


class WebhookAttempt(models.Model):
    """The log: one row per HTTP attempt (or refusal) of a delivery."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE,
                                 related_name="attempt_log")
    number = models.PositiveSmallIntegerField()
    at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    response_excerpt = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["delivery", "number"]
        constraints = [models.UniqueConstraint(fields=["delivery", "number"],
                                               name="webhook_attempt_once")]

    def __str__(self) -> str:
        return f"WebhookAttempt #{self.pk}"
