"""The transmission of issued invoices to the *plateforme agréée* and what it reports back.

One `Transmission` per invoice (or credit note): its own small state machine (TRANSITIONS,
driven by core.transitions, history in TransmissionStatusChange) for our side of the deposit —
to deposit, deposit in progress (the journal, committed before the network call), deposited,
failed, rejected by the platform, closed — and the platform's lifecycle statuses (the CDV
codes 200–213) as `StatusEvent` rows, the latest copied to `lifecycle_code` and onto the
invoice (billing.platform). The `tracking_id` is the stable external id given to the
platform: the invoice number (with a suffix for a new deposit after a rejection), so a
deposit whose answer was lost is found again instead of being deposited twice."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from permanence.core.models import StatusHistory


class TransmissionStatus(models.TextChoices):
    PENDING = "a_deposer", _("À déposer")
    SENDING = "en_cours", _("Dépôt en cours")
    DEPOSITED = "deposee", _("Déposée")
    FAILED = "echec", _("Échec du dépôt")
    REJECTED = "rejetee", _("Rejetée par la plateforme")
    CLOSED = "terminee", _("Terminée")


TRANSMISSION_TRANSITIONS: dict[str, set[str]] = {
    TransmissionStatus.PENDING: {TransmissionStatus.SENDING},
    # A transient error sends it back to PENDING (retried later); a permanent one, or too
    # many attempts, to FAILED.
    TransmissionStatus.SENDING: {TransmissionStatus.DEPOSITED, TransmissionStatus.PENDING,
                                 TransmissionStatus.FAILED},
    TransmissionStatus.DEPOSITED: {TransmissionStatus.REJECTED, TransmissionStatus.CLOSED},
    # « Retransmettre » (billing staff).
    TransmissionStatus.FAILED: {TransmissionStatus.PENDING},
    TransmissionStatus.REJECTED: {TransmissionStatus.PENDING},
    TransmissionStatus.CLOSED: set(),
}


class Transmission(models.Model):
    invoice = models.OneToOneField("billing.Invoice", on_delete=models.PROTECT,
                                   related_name="platform_transmission")
    tracking_id = models.CharField(max_length=40, unique=True)
    # 1, then 2, 3… for a new deposit after a rejection (a new tracking id each time).
    generation = models.PositiveIntegerField(default=1)
    status = models.CharField(_("statut"), max_length=10, choices=TransmissionStatus.choices,
                              default=TransmissionStatus.PENDING)
    flow_id = models.CharField(max_length=80, blank=True)
    syntax = models.CharField(max_length=10, default="Factur-X")
    lifecycle_code = models.CharField(max_length=3, blank=True)  # the latest CDV code
    attempts = models.PositiveIntegerField(default=0)  # of this generation's deposit
    last_error = models.CharField(max_length=500, blank=True)
    next_attempt_at = models.DateTimeField()
    sending_since = models.DateTimeField(null=True, blank=True)
    deposited_at = models.DateTimeField(null=True, blank=True)
    polled_at = models.DateTimeField(null=True, blank=True)
    # The seller's « 212 Encaissée » for a paid invoice (its own CDAR flow).
    payment_flow_id = models.CharField(max_length=80, blank=True)
    payment_reported_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("transmission à la plateforme")
        indexes = [models.Index(fields=["status", "next_attempt_at"],
                                name="einvoicing_transmission_due")]

    def __str__(self) -> str:
        return f"{self.tracking_id} ({self.status})"


class TransmissionStatusChange(StatusHistory):
    transmission = models.ForeignKey(Transmission, on_delete=models.CASCADE,
                                     related_name="history")
    from_status = models.CharField(max_length=10, blank=True)
    to_status = models.CharField(max_length=10)


class StatusEvent(models.Model):
    """A lifecycle status the platform reported (CDV code), once each."""

    transmission = models.ForeignKey(Transmission, on_delete=models.CASCADE,
                                     related_name="events")
    tracking_id = models.CharField(max_length=40)  # which deposit (generation) it is about
    code = models.CharField(max_length=3)
    at = models.DateTimeField()  # the platform's time
    reason = models.CharField(max_length=500, blank=True)
    received_at = models.DateTimeField()

    class Meta:
        ordering = ["at", "pk"]
        constraints = [models.UniqueConstraint(fields=["tracking_id", "code", "at"],
                                               name="einvoicing_status_event_once")]

    def __str__(self) -> str:
        return f"{self.tracking_id} {self.code}"
