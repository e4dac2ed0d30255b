"""Outbound campaigns (seed 003: qualification de prospects, prise de rendez-vous, relance):
a list of people to call for one client account, a script, dispositions, attempt rules."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from permanence.accounts.models import ClientAccount
from permanence.core.models import StatusHistory


class CampaignKind(models.TextChoices):
    QUALIFICATION = "qualification", _("Qualification de prospects")
    APPOINTMENTS = "rendez_vous", _("Prise de rendez-vous")
    FOLLOW_UP = "relance", _("Relance")


class CampaignStatus(models.TextChoices):
    DRAFT = "brouillon", _("Brouillon")
    ACTIVE = "active", _("En cours")
    PAUSED = "en_pause", pgettext_lazy("state of a calling campaign", "En pause")
    FINISHED = "terminee", pgettext_lazy("state of a calling campaign", "Terminée")


CAMPAIGN_TRANSITIONS: dict[str, set[str]] = {
    CampaignStatus.DRAFT: {CampaignStatus.ACTIVE, CampaignStatus.FINISHED},
    CampaignStatus.ACTIVE: {CampaignStatus.PAUSED, CampaignStatus.FINISHED},
    CampaignStatus.PAUSED: {CampaignStatus.ACTIVE, CampaignStatus.FINISHED},
    CampaignStatus.FINISHED: set(),
}


class Campaign(models.Model):
    account = models.ForeignKey(ClientAccount, on_delete=models.PROTECT,
                                related_name="campaigns")
    name = models.CharField(_("nom"), max_length=120)
    kind = models.CharField(_("type"), max_length=16, choices=CampaignKind.choices)
    script = models.TextField(_("script d'appel"), blank=True)
    status = models.CharField(_("statut"), max_length=10, choices=CampaignStatus.choices,
                              default=CampaignStatus.DRAFT)
    max_attempts = models.PositiveSmallIntegerField(_("tentatives au plus"), default=3)
    retry_minutes = models.PositiveIntegerField(_("délai entre deux tentatives (minutes)"),
                                                default=120)
    # Call only while the account's business calendar is open (its opening hours).
    business_hours_only = models.BooleanField(_("appeler aux heures d'ouverture du client"),
                                              default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("campagne")

    def __str__(self) -> str:
        return self.name


class CampaignStatusChange(StatusHistory):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="history")
    from_status = models.CharField(max_length=10, blank=True)
    to_status = models.CharField(max_length=10)


class TargetStatus(models.TextChoices):
    TO_CALL = "a_appeler", _("À appeler")
    CALL_BACK = "rappeler", _("À rappeler")
    DONE = "termine", pgettext_lazy("state of a person to call in a campaign", "Terminé")
    # The person objected to direct marketing (GDPR art. 21, privacy's objection request):
    # never called again by this account's campaigns.
    OBJECTED = "opposition", _("Opposition (RGPD)")


class Disposition(models.TextChoices):
    REACHED = "joint", _("Joint")
    ABSENT = "absent", pgettext_lazy("outcome of a campaign call: the person was not there",
                                     "Absent")
    CALL_BACK = "rappeler", _("Rappeler")
    NOT_INTERESTED = "pas_interesse", _("Pas intéressé")
    APPOINTMENT = "rdv_pris", _("RDV pris")
    SALE = "vente", _("Vente")


class CampaignTarget(models.Model):
    """One person to call in a campaign."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="targets")
    name = models.CharField(_("nom"), max_length=120)
    company = models.CharField(_("société"), max_length=120, blank=True)
    phone = models.CharField(_("téléphone"), max_length=20)  # E.164
    email = models.EmailField(_("e-mail"), blank=True)
    notes = models.CharField(_("notes"), max_length=500, blank=True)
    line = models.PositiveIntegerField(_("ligne du fichier"), null=True, blank=True)
    status = models.CharField(_("statut"), max_length=10, choices=TargetStatus.choices,
                              default=TargetStatus.TO_CALL)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_disposition = models.CharField(max_length=14, choices=Disposition.choices,
                                        blank=True)
    # The agent calling this person now (so two agents never call the same person).
    claimed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    claimed_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["campaign", "phone"],
                                               name="campaign_target_unique_phone")]
        indexes = [models.Index(fields=["campaign", "status", "next_attempt_at"],
                                name="campaign_target_next")]

    def __str__(self) -> str:
        return self.name


class CampaignAttempt(models.Model):
    target = models.ForeignKey(CampaignTarget, on_delete=models.CASCADE,
                               related_name="attempt_rows")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="attempts")
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                              related_name="+")
    disposition = models.CharField(_("résultat"), max_length=14, choices=Disposition.choices)
    note = models.CharField(_("note"), max_length=1000, blank=True)
    call_back_at = models.DateTimeField(null=True, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["campaign", "agent", "disposition"],
                                name="campaign_attempt_agent")]

    def __str__(self) -> str:
        return f"CampaignAttempt #{self.pk}"
