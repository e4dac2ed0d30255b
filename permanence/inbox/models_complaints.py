"""Complaints (réclamations) and satisfaction surveys — imported by models.py."""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ComplaintStep(models.TextChoices):
    RECEPTION = "reception", _("Réception")
    ANALYSIS = "analyse", _("Analyse")
    TREATMENT = "traitement", _("Traitement")
    CLOSURE = "cloture", _("Clôture")


COMPLAINT_STEPS = [s.value for s in ComplaintStep]

# The analysis moves a received complaint to its treatment, the treatment to its closure;
# closing then stamps the closure step (complaints.complaint_close).
COMPLAINT_TRANSITIONS: dict[str, set[str]] = {
    ComplaintStep.RECEPTION: {ComplaintStep.TREATMENT},
    ComplaintStep.ANALYSIS: {ComplaintStep.TREATMENT},
    ComplaintStep.TREATMENT: {ComplaintStep.CLOSURE},
    ComplaintStep.CLOSURE: set(),
}


class Resolution(models.TextChoices):
    ORDER_FIX = "correction_commande", _("Correction de commande")
    REFUND = "ajustement_remboursement", _("Ajustement ou remboursement")
    GESTURE = "geste_commercial", _("Geste commercial")
    EXPLANATION = "explication_detaillee", _("Explication détaillée")


class Impact(models.TextChoices):
    LOW = "faible", _("Faible")
    MEDIUM = "moyen", _("Moyen")
    HIGH = "fort", _("Fort")


class Complaint(models.Model):
    """The four steps of seed 000 "Gestion des réclamations", each stamped with who/when."""

    conversation = models.OneToOneField("inbox.Conversation", on_delete=models.CASCADE,
                                        related_name="complaint")
    step = models.CharField(_("étape"), max_length=12, choices=ComplaintStep.choices,
                            default=ComplaintStep.RECEPTION)
    order_reference = models.CharField(_("commande concernée"), max_length=60, blank=True)
    # 1. Réception
    received_at = models.DateTimeField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    # 2. Analyse
    facts = models.TextField(_("faits vérifiés"), blank=True)
    urgency = models.CharField(_("urgence"), max_length=8, blank=True)
    impact = models.CharField(_("impact"), max_length=8, choices=Impact.choices, blank=True)
    analysed_at = models.DateTimeField(null=True, blank=True)
    analysed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    # 3. Traitement
    resolution = models.CharField(_("solution"), max_length=28, choices=Resolution.choices,
                                  blank=True)
    resolution_details = models.TextField(_("détail de la solution"), blank=True)
    promised_date = models.DateField(_("date de résolution promise"), null=True, blank=True)
    treated_at = models.DateTimeField(null=True, blank=True)
    treated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    # 4. Clôture
    customer_satisfied = models.BooleanField(_("client satisfait"), null=True, blank=True)
    closing_comment = models.TextField(_("commentaire de clôture"), blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-received_at"]
        verbose_name = _("réclamation")
        indexes = [models.Index(fields=["step", "-received_at"])]

    def __str__(self) -> str:
        return f"Réclamation {self.conversation.reference}"


def new_survey_token() -> str:
    return secrets.token_urlsafe(24)


class SurveyResponse(models.Model):
    """Sent when a conversation is resolved; answered without login through its token."""

    conversation = models.ForeignKey("inbox.Conversation", on_delete=models.CASCADE,
                                     related_name="surveys")
    # The conversation's account, copied when the survey is saved: the reports count a
    # period's answers per account without joining every conversation.
    account = models.ForeignKey("accounts.ClientAccount", null=True, blank=True,
                                on_delete=models.CASCADE, related_name="+")
    contact = models.ForeignKey("inbox.Contact", null=True, on_delete=models.SET_NULL,
                                related_name="surveys")
    token = models.CharField(max_length=40, unique=True, default=new_survey_token)
    ask_nps = models.BooleanField(default=False)
    csat = models.PositiveSmallIntegerField(null=True, blank=True)
    nps = models.PositiveSmallIntegerField(null=True, blank=True)
    comment = models.TextField(blank=True)
    sent_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-sent_at"]
        constraints = [
            models.CheckConstraint(condition=models.Q(csat__isnull=True) | models.Q(
                csat__gte=1, csat__lte=5), name="survey_csat_1_5"),
            models.CheckConstraint(condition=models.Q(nps__isnull=True) | models.Q(
                nps__gte=0, nps__lte=10), name="survey_nps_0_10"),
        ]
        # The reports read a period's surveys by when they were sent and when answered.
        indexes = [models.Index(fields=["sent_at"], name="survey_sent_at"),
                   models.Index(fields=["answered_at"], name="survey_answered_at")]

    def __str__(self) -> str:
        return f"Satisfaction {self.conversation_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.account_id is None:
            self.account_id = self.conversation.account_id
        super().save(*args, **kwargs)
