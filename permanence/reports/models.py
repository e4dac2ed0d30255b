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


class ExportFrequency(models.TextChoices):
    WEEKLY = "hebdomadaire", _("Chaque lundi (semaine écoulée)")
    MONTHLY = "mensuel", _("Le 1er du mois (mois écoulé)")


class ExportFormat(models.TextChoices):
    XLSX = "xlsx", _("Excel (XLSX)")
    CSV = "csv", _("CSV")


class ScheduledExport(models.Model):
    """A report e-mailed to its owner every week or month: the indicators table, or the rows
    behind one (the drill-down's `what`/`which`), over the period just ended, computed with
    the owner's own rights at sending time. Sent to the owner only: the figures never leave
    the scope of someone allowed to read them."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                              related_name="+")
    what = models.CharField(_("contenu"), max_length=20, blank=True)  # "" = the indicators
    which = models.CharField(max_length=20, blank=True)
    account = models.ForeignKey(ClientAccount, null=True, blank=True, on_delete=models.CASCADE,
                                related_name="+", verbose_name=_("compte client"))
    channel = models.CharField(_("canal"), max_length=20, blank=True)
    frequency = models.CharField(_("fréquence"), max_length=12,
                                 choices=ExportFrequency.choices,
                                 default=ExportFrequency.MONTHLY)
    fmt = models.CharField(_("format"), max_length=4, choices=ExportFormat.choices,
                           default=ExportFormat.XLSX)
    created_at = models.DateTimeField()
    # The first day of the last period claimed for sending (by a conditional update, so that
    # two schedulers never both send it) and when; a claim an hour old whose e-mail did not
    # leave (an SMTP failure) is claimed again. Then when its e-mail actually left.
    claimed_period = models.DateField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_period = models.DateField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["owner_id", "id"]
        verbose_name = _("envoi programmé")

    def __str__(self) -> str:
        return f"{self.owner_id} {self.what or 'indicateurs'} {self.frequency}"
