"""Business calendars (opening slots, public holidays, exceptional closures) and the notices
shown from them. The tables keep the names they had under core (db_table)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def default_weekly() -> dict[str, list[list[str]]]:
    office = [["08:30", "12:30"], ["14:00", "18:00"]]
    return {day: (office if day not in ("sat", "sun") else []) for day in WEEKDAYS}


class HolidayRegion(models.TextChoices):
    NONE = "", _("Aucun jour férié")
    FRANCE = "FR", _("France métropolitaine")
    ALSACE_MOSELLE = "FR-57", _("Alsace-Moselle")


class BusinessCalendar(models.Model):
    """Opening hours of an account (or of the operator, the default for everybody).

    `weekly` maps mon..sun to a list of ["HH:MM", "HH:MM"] slots in local time.
    """

    name = models.CharField(_("nom"), max_length=120)
    timezone = models.CharField(_("fuseau horaire"), max_length=64, default="Europe/Paris")
    weekly = models.JSONField(_("horaires hebdomadaires"), default=default_weekly)
    holidays = models.CharField(
        _("jours fériés"), max_length=8, choices=HolidayRegion.choices, blank=True,
        default=HolidayRegion.FRANCE,
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "core_businesscalendar"
        verbose_name = _("calendrier ouvré")
        verbose_name_plural = _("calendriers ouvrés")

    def __str__(self) -> str:
        return self.name


class Closure(models.Model):
    """An exceptional closure: nobody answers in [start, end)."""

    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.CASCADE, related_name="closures"
    )
    start = models.DateTimeField(_("début"))
    end = models.DateTimeField(_("fin"))
    message = models.CharField(_("message public"), max_length=300, blank=True)

    class Meta:
        db_table = "core_closure"
        ordering = ["start"]
        verbose_name = _("fermeture exceptionnelle")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="closure_end_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.start:%Y-%m-%d} → {self.end:%Y-%m-%d}"


class Announcement(models.Model):
    """A notice shown on the public site and the espace client while it applies."""

    class Kind(models.TextChoices):
        CLOSURE = "closure", _("Fermeture")
        MAINTENANCE = "maintenance", _("Maintenance planifiée")
        INFO = "info", _("Information")

    kind = models.CharField(_("type"), max_length=16, choices=Kind.choices, default=Kind.INFO)
    title = models.CharField(_("titre"), max_length=160)
    message = models.TextField(_("message"), blank=True)
    starts_at = models.DateTimeField(_("affiché à partir de"))
    ends_at = models.DateTimeField(_("affiché jusqu'à"))
    show_public = models.BooleanField(_("site public"), default=True)
    show_portal = models.BooleanField(_("espace client"), default=True)

    class Meta:
        db_table = "core_announcement"
        ordering = ["starts_at"]
        verbose_name = _("annonce")
        indexes = [models.Index(fields=["ends_at", "starts_at"])]

    def __str__(self) -> str:
        return self.title
