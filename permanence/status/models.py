"""The incident log and the health samples of the channels.

Samples are aggregated per channel and per (local) day: one row holds the minutes observed
and the minutes the channel was up that day, incremented by the sampler every minute with a
single UPDATE — 5 channels × 365 days is under 2,000 rows a year."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    WEB = "web", _("Site web et espace client")
    EMAIL = "email", _("E-mail (passerelle)")
    TELEPHONY = "telephony", _("Téléphonie (événements d'appels)")
    CHAT = "chat", _("Chat")
    PAYMENTS = "payments", _("Paiements")


class Incident(models.Model):
    """A planned maintenance, an update or an incident, with its public description and
    its timeline of status updates."""

    class Kind(models.TextChoices):
        MAINTENANCE = "maintenance", _("Maintenance planifiée")
        UPDATE = "update", _("Mise à jour")
        INCIDENT = "incident", _("Incident")

    class Severity(models.TextChoices):
        DEGRADED = "degraded", _("Dégradé")
        UNAVAILABLE = "unavailable", _("Indisponible")

    kind = models.CharField(_("Nature"), max_length=12, choices=Kind.choices,
                            default=Kind.INCIDENT)
    title = models.CharField(_("Titre"), max_length=200)
    title_en = models.CharField(_("Titre (anglais)"), max_length=200, blank=True)
    description = models.TextField(_("Description publique"), blank=True)
    description_en = models.TextField(_("Description publique (anglais)"), blank=True)
    channels = models.JSONField(_("Canaux concernés"), default=list)
    severity = models.CharField(_("Gravité"), max_length=12, choices=Severity.choices,
                                default=Severity.DEGRADED)
    starts_at = models.DateTimeField(_("Début"))
    ends_at = models.DateTimeField(_("Fin"), null=True, blank=True)
    planned = models.BooleanField(_("Planifié"), default=False)
    public = models.BooleanField(_("Publié sur la page de statut"), default=True)
    internal_notes = models.TextField(_("Notes internes"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+",
                                   verbose_name=_("Créé par"))
    created_at = models.DateTimeField(_("Créé le"))
    updated_at = models.DateTimeField(_("Modifié le"))

    class Meta:
        verbose_name = _("Intervention technique")
        verbose_name_plural = _("Interventions techniques")
        ordering = ["-starts_at", "-pk"]
        indexes = [models.Index(fields=["starts_at"], name="status_incident_start"),
                   models.Index(fields=["ends_at"], name="status_incident_end")]

    def __str__(self) -> str:
        return self.title

    @property
    def is_maintenance(self) -> bool:
        return self.planned and self.kind == self.Kind.MAINTENANCE

    def public_title(self) -> str:
        return self.title_en if self.title_en and _english() else self.title

    def public_description(self) -> str:
        return self.description_en if self.description_en and _english() else self.description

    def channel_labels(self) -> list[str]:
        labels = dict(Channel.choices)
        return [str(labels[c]) for c in self.channels if c in labels]


class IncidentUpdate(models.Model):
    """One entry of an incident's public timeline."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="updates")
    at = models.DateTimeField(_("Heure"))
    text = models.TextField(_("Message"))
    text_en = models.TextField(_("Message (anglais)"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("Point d'étape")
        verbose_name_plural = _("Points d'étape")
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return self.text[:60]

    def public_text(self) -> str:
        return self.text_en if self.text_en and _english() else self.text


class ChannelDay(models.Model):
    """The health samples of one channel on one local day: minutes observed, minutes up,
    and the latest sample (for the current state)."""

    channel = models.CharField(max_length=12, choices=Channel.choices)
    day = models.DateField()
    minutes_observed = models.PositiveIntegerField(default=0)
    minutes_up = models.PositiveIntegerField(default=0)
    last_at = models.DateTimeField()
    last_up = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("Disponibilité journalière")
        verbose_name_plural = _("Disponibilités journalières")
        constraints = [models.UniqueConstraint(fields=["channel", "day"],
                                               name="status_channel_day_once")]
        indexes = [models.Index(fields=["day"], name="status_channel_day_day")]

    def __str__(self) -> str:
        return f"{self.channel} {self.day}"


def _english() -> bool:
    return (get_language() or "fr").startswith("en")
