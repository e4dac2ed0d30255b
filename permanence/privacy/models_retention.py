"""Retention schedules and their runs, and the register of personal-data breaches (RGPD
art. 5(1)(e), art. 33 and 34). Imported by models.py."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class RetentionSchedule(models.Model):
    """An administrator's duration for one named retention rule (registry.RETENTION); a rule
    without a row keeps the registry's CNIL default."""

    rule = models.CharField(_("règle"), max_length=40, unique=True)
    days = models.PositiveIntegerField(_("durée (jours)"))
    updated_at = models.DateTimeField(_("modifiée le"))
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("durée de conservation")
        verbose_name_plural = _("durées de conservation")
        ordering = ["rule"]

    def __str__(self) -> str:
        return f"{self.rule}: {self.days}"


class RetentionRun(models.Model):
    """One run of the retention job: a dry run (counts only) or the real one. `counts` is
    {rule: {"app.Model": rows}}; `kept` the rows past their duration that are kept by law
    (invoices)."""

    started_at = models.DateTimeField(_("commencée le"))
    finished_at = models.DateTimeField(_("terminée le"), null=True, blank=True)
    dry_run = models.BooleanField(_("simulation"), default=True)
    counts = models.JSONField(_("lignes par règle"), default=dict, blank=True)
    kept = models.JSONField(_("conservées par obligation légale"), default=dict, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    error = models.TextField(_("erreur"), blank=True)

    class Meta:
        verbose_name = _("exécution de la conservation")
        verbose_name_plural = _("exécutions de la conservation")
        ordering = ["-started_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M} {'dry' if self.dry_run else 'run'}"

    @property
    def total(self) -> int:
        return sum(int(n) for per_model in self.counts.values() for n in per_model.values())


class BreachRisk(models.TextChoices):
    # Art. 33: the CNIL is notified unless the breach is unlikely to result in a risk;
    # art. 34: the people are informed when the risk is high.
    UNLIKELY = "improbable", _("Risque improbable (pas de notification)")
    RISK = "risque", _("Risque (notification à la CNIL)")
    HIGH = "eleve", _("Risque élevé (CNIL et personnes concernées)")


class BreachStatus(models.TextChoices):
    OPEN = "ouverte", _("En cours de traitement")
    CONTAINED = "maitrisee", _("Maîtrisée")
    CLOSED = "close", _("Close")


class Breach(models.Model):
    """A personal-data breach, recorded whatever its risk (art. 33(5): the register documents
    every breach, notified or not)."""

    title = models.CharField(_("intitulé"), max_length=200)
    description = models.TextField(_("ce qui s'est passé"))
    discovered_at = models.DateTimeField(_("découverte le"))
    occurred_at = models.DateTimeField(_("survenue le"), null=True, blank=True)
    data_categories = models.JSONField(_("catégories de données"), default=list, blank=True)
    subject_categories = models.JSONField(_("catégories de personnes"), default=list,
                                          blank=True)
    people_count = models.PositiveIntegerField(_("nombre approximatif de personnes"),
                                               null=True, blank=True)
    consequences = models.TextField(_("conséquences probables"), blank=True)
    measures = models.TextField(_("mesures prises ou envisagées"), blank=True)
    risk = models.CharField(_("niveau de risque"), max_length=12, choices=BreachRisk.choices,
                            default=BreachRisk.RISK)
    notified_at = models.DateTimeField(_("notifiée à la CNIL le"), null=True, blank=True)
    informed_at = models.DateTimeField(_("personnes informées le"), null=True, blank=True)
    status = models.CharField(_("statut"), max_length=12, choices=BreachStatus.choices,
                              default=BreachStatus.OPEN)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("violation de données")
        verbose_name_plural = _("violations de données")
        ordering = ["-discovered_at", "-pk"]

    def __str__(self) -> str:
        return self.title

    @property
    def cnil_required(self) -> bool:
        return self.risk != BreachRisk.UNLIKELY

    @property
    def people_required(self) -> bool:
        return self.risk == BreachRisk.HIGH
