from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from permanence.accounts.models import ClientAccount


class MonthlyReportSend(models.Model):
    """The monthly activity report of one account for one month was announced to its clients
    (once: the scheduler's job claims the row before queueing the e-mail). The report itself
    is not stored: it is computed from the data whenever it is opened, so it never disagrees
    with the live figures."""

    account = models.ForeignKey(ClientAccount, on_delete=models.CASCADE, related_name="+")
    month = models.DateField()  # the first day of the month reported
    sent_at = models.DateTimeField()
    recipients = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "month"],
                                               name="monthly_report_once")]

    def __str__(self) -> str:
        return f"{self.account_id} {self.month:%Y-%m}"


class ObjectivePeriod(models.TextChoices):
    DAY = "jour", _("Jour")
    WEEK = "semaine", _("Semaine")
    MONTH = "mois", _("Mois")


class Objective(models.Model):
    """A target for one indicator (reports.kpis key) over the current day, week or month,
    for the whole team (agent empty) or one secretary. The target is in the unit shown
    (a rate in %, a duration in seconds); reports.objectives says whether it is met."""

    indicator = models.CharField(_("indicateur"), max_length=60)
    target = models.FloatField(_("cible"))
    period = models.CharField(_("période"), max_length=8, choices=ObjectivePeriod.choices,
                              default=ObjectivePeriod.MONTH)
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.CASCADE, related_name="+",
                              verbose_name=_("secrétaire"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["indicator", "agent_id", "id"]
        verbose_name = _("objectif")

    def __str__(self) -> str:
        return f"{self.indicator} {self.target:g}"


class Challenge(models.Model):
    """A team challenge (seed 001 « Fixer des objectifs »): a target on one indicator between
    two days, and what the team wins; shown to every secretary while it runs."""

    title = models.CharField(_("titre"), max_length=120)
    indicator = models.CharField(_("indicateur"), max_length=60)
    target = models.FloatField(_("cible"))
    starts_on = models.DateField(_("du"))
    ends_on = models.DateField(_("au"))
    reward = models.CharField(_("récompense"), max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-starts_on", "id"]
        verbose_name = _("challenge")

    def __str__(self) -> str:
        return self.title
