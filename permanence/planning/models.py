"""Staff planning (shifts of the secretaries over the week, breaks placed by rule) and the
staff pulse: a short anonymous monthly survey of the secretaries.

Anonymity of the pulse is by construction: a `PulseResponse` has no user, no time and a
random primary key (no insertion order to line up with the participations'); the
`PulseParticipation` row (user, month), written in the same transaction, only says who
answered, so that nobody answers twice."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .breaks import place_breaks


def minutes_of(t: time) -> int:
    return t.hour * 60 + t.minute


class Shift(models.Model):
    """One secretary on duty on `day` from `starts_at` to `ends_at` (local time, Europe/Paris);
    an end at or before the start is the next day's (a night shift crossing midnight)."""

    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                              related_name="shifts", verbose_name=_("télésecrétaire"))
    day = models.DateField(_("jour"))
    starts_at = models.TimeField(_("début"))
    ends_at = models.TimeField(_("fin"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name = _("créneau de planning")
        ordering = ["day", "starts_at", "pk"]
        indexes = [models.Index(fields=["day", "starts_at"], name="planning_shift_day"),
                   models.Index(fields=["agent", "day"], name="planning_shift_agent_day")]
        constraints = [models.CheckConstraint(condition=~models.Q(starts_at=models.F("ends_at")),
                                              name="planning_shift_not_empty")]

    def __str__(self) -> str:
        return f"{self.day:%d/%m/%Y} {self.starts_at:%H:%M}–{self.ends_at:%H:%M}"

    @property
    def duration_minutes(self) -> int:
        return shift_minutes(self.starts_at, self.ends_at)

    @property
    def crosses_midnight(self) -> bool:
        return self.ends_at <= self.starts_at

    @property
    def start(self) -> datetime:
        """Naive local start (the planning is drawn in local time)."""
        return datetime.combine(self.day, self.starts_at)

    @property
    def end(self) -> datetime:
        return self.start + timedelta(minutes=self.duration_minutes)

    def breaks(self) -> list[tuple[datetime, datetime]]:
        """The breaks the rule places on this shift (breaks.place_breaks), as local times."""
        return [(self.start + timedelta(minutes=a), self.start + timedelta(minutes=b))
                for a, b in place_breaks(self.duration_minutes)]


def shift_minutes(starts_at: time, ends_at: time) -> int:
    """The length of a shift in minutes; an end at or before the start is the next day's."""
    length = minutes_of(ends_at) - minutes_of(starts_at)
    return length if length > 0 else length + 24 * 60


def month_start(day: date) -> date:
    return day.replace(day=1)


class PulseResponse(models.Model):
    """One anonymous answer: no user, no timestamp, a random key."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    month = models.DateField(_("mois"))  # the first day of the month
    wellbeing = models.PositiveSmallIntegerField(_("je me sens bien dans mon travail"))
    workload = models.PositiveSmallIntegerField(_("ma charge de travail est raisonnable"))
    support = models.PositiveSmallIntegerField(_("je me sens soutenu(e) par l'équipe"))
    comment = models.TextField(_("commentaire"), max_length=1000, blank=True)

    class Meta:
        verbose_name = _("réponse au baromètre")
        indexes = [models.Index(fields=["month"], name="planning_pulse_month")]
        constraints = [models.CheckConstraint(
            condition=models.Q(wellbeing__gte=1, wellbeing__lte=5, workload__gte=1,
                               workload__lte=5, support__gte=1, support__lte=5),
            name="planning_pulse_scores_1_to_5")]

    def __str__(self) -> str:
        return f"{self.month:%m/%Y}"


class PulseParticipation(models.Model):
    """Who answered which month (never what): one row per secretary and month."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="+")
    month = models.DateField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "month"],
                                               name="planning_pulse_once_a_month")]

    def __str__(self) -> str:
        return f"{self.month:%m/%Y}"
