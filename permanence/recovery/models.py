"""Payment incidents (issue 12, « Incidents de paiement et relances »): a failed or returned
payment of an issued invoice opens one; its timeline (IncidentEvent) records every step —
failure, retry, reminder, suspension, payment, resumption, note."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class IncidentState(models.TextChoices):
    OPEN = "ouvert", _("Ouvert")
    SUSPENDED = "suspendu", _("Service suspendu")
    RESOLVED = "resolu", _("Résolu")


INCIDENT_TRANSITIONS: dict[str, set[str]] = {
    IncidentState.OPEN: {IncidentState.SUSPENDED, IncidentState.RESOLVED},
    IncidentState.SUSPENDED: {IncidentState.RESOLVED},
    IncidentState.RESOLVED: set(),
}


class NextAction(models.TextChoices):
    RETRY = "nouvel_essai", _("Nouvel essai de prélèvement")
    REMINDER = "rappel", _("Rappel par e-mail")
    SUSPENSION = "suspension", _("Suspension du service")
    WAIT_PAYMENT = "attente", _("Attente du paiement")
    NONE = "", _("Aucune")


class PaymentIncident(models.Model):
    invoice = models.ForeignKey("billing.Invoice", on_delete=models.PROTECT,
                                related_name="payment_incidents")
    account = models.ForeignKey("accounts.ClientAccount", on_delete=models.PROTECT,
                                related_name="payment_incidents")
    amount_cents = models.IntegerField(_("montant dû"))
    opened_at = models.DateTimeField(_("ouvert le"))
    state = models.CharField(_("état"), max_length=10, choices=IncidentState.choices,
                             default=IncidentState.OPEN)
    reason = models.CharField(_("motif"), max_length=300, blank=True)
    next_action = models.CharField(_("prochaine étape"), max_length=14,
                                   choices=NextAction.choices, blank=True)
    next_action_on = models.DateField(_("le"), null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at", "-pk"]
        verbose_name = _("incident de paiement")
        constraints = [models.UniqueConstraint(
            fields=["invoice"], condition=~models.Q(state="resolu"),
            name="one_live_incident_per_invoice")]
        indexes = [models.Index(fields=["state", "next_action_on"])]

    def __str__(self) -> str:
        return f"{self.invoice_id} ({self.state})"


class EventKind(models.TextChoices):
    FAILURE = "echec", _("Échec du paiement")
    RETURN = "retour", _("Prélèvement retourné")
    NOTICE = "avis", _("Client prévenu")
    RETRY = "essai", _("Nouvel essai de prélèvement")
    REMINDER = "rappel", _("Rappel envoyé")
    SUSPENSION = "suspension", _("Service suspendu")
    PAYMENT = "paiement", _("Paiement reçu")
    RESUMPTION = "reprise", _("Service repris")
    RESOLVED = "resolu", _("Incident clos")
    NOTE = "note", _("Note")


class IncidentEvent(models.Model):
    """One step on an incident's timeline. `step` names a step that must happen once (the
    J+3 reminder, the second retry, the failure of one payment): unique per incident, so a
    job run twice finds it done and sends nothing twice."""

    incident = models.ForeignKey(PaymentIncident, on_delete=models.CASCADE,
                                 related_name="events")
    kind = models.CharField(max_length=12, choices=EventKind.choices)
    step = models.CharField(max_length=40, blank=True)
    at = models.DateTimeField()
    note = models.CharField(max_length=300, blank=True)
    amount_cents = models.IntegerField(null=True, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                              blank=True, related_name="+")
    payment = models.ForeignKey("payments.Payment", on_delete=models.SET_NULL, null=True,
                                blank=True, related_name="+")

    class Meta:
        ordering = ["at", "pk"]
        constraints = [models.UniqueConstraint(
            fields=["incident", "step"], condition=~models.Q(step=""),
            name="incident_step_once")]

    def __str__(self) -> str:
        return f"{self.kind} {self.step}"
