"""Continuity: the record of every backup run and of the alerts sent about stale backups."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class BackupRun(models.Model):
    """One run of `manage.py backup`. Written when it starts (ok=False, no finished_at) and
    updated when it ends: a run that failed, or that never finished, is never ok."""

    started_at = models.DateTimeField(_("commencée le"))
    finished_at = models.DateTimeField(_("terminée le"), null=True, blank=True)
    path = models.CharField(_("archive"), max_length=500, blank=True)
    size = models.BigIntegerField(_("taille (octets)"), default=0)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    encrypted = models.BooleanField(_("chiffrée"), default=False)
    ok = models.BooleanField(_("réussie"), default=False)
    error = models.TextField(_("erreur"), blank=True)

    class Meta:
        verbose_name = _("sauvegarde")
        verbose_name_plural = _("sauvegardes")
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["ok", "-finished_at"], name="privacy_backup_ok_idx")]

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M} {'ok' if self.ok else 'failed'}"


class BackupAlert(models.Model):
    """One row per day on which the administrators were told the last successful backup is
    stale: the unique day makes the alert once a day, whatever the number of schedulers."""

    day = models.DateField(_("jour"), unique=True)
    sent_at = models.DateTimeField(_("envoyée le"))
    last_success_at = models.DateTimeField(_("dernière sauvegarde réussie"), null=True,
                                           blank=True)

    class Meta:
        verbose_name = _("alerte de sauvegarde")
        verbose_name_plural = _("alertes de sauvegarde")

    def __str__(self) -> str:
        return str(self.day)


# Data subjects' requests live in their own module (privacy/models_requests.py).
from .models_requests import (  # noqa: E402
    SubjectExport,
    SubjectRequest,
    SubjectRequestStatusChange,
)
from .models_retention import (  # noqa: E402 (the retention and breach models)
    Breach,
    BreachRisk,
    BreachStatus,
    RetentionRun,
    RetentionSchedule,
)

__all__ = ["BackupAlert", "BackupRun", "Breach", "BreachRisk", "BreachStatus", "RetentionRun",
           "RetentionSchedule", "SubjectExport", "SubjectRequest", "SubjectRequestStatusChange"]
