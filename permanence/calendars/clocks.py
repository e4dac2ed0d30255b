"""How a deadline written in "heures ouvrées" counts: the setting (an SLA policy's, the
operator's for orders and quotes) and the plain words telling customers which one applies.
The arithmetic is the engine's (core.business_time.clock_view)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from permanence.core.business_time import OPENING_HOURS, WORKING_DAYS


class DeadlineClock(models.TextChoices):
    # The values are core.business_time's WORKING_DAYS and OPENING_HOURS.
    WORKING_DAYS = "jours_ouvres", gettext_lazy("Jours ouvrés (24 h par jour ouvré)")
    OPENING_HOURS = "heures_ouverture", gettext_lazy("Heures d'ouverture uniquement")


DEFAULT_CLOCK = WORKING_DAYS


def clock_explanation(clock: str) -> str:
    """One sentence, for customers, saying how "heures ouvrées" are counted."""
    if clock == OPENING_HOURS:
        return _("Les délais en heures ouvrées se comptent uniquement pendant nos heures "
                 "d'ouverture : 24 heures ouvrées représentent 24 heures d'ouverture, soit "
                 "trois journées de 8 heures.")
    return _("Les délais en heures ouvrées se comptent en jours ouvrés : 24 heures ouvrées "
             "font un jour ouvré, 48 heures ouvrées deux jours ouvrés. Seuls les jours où "
             "nous sommes ouverts comptent (ni week-end, ni jour férié, ni fermeture), et un "
             "délai ne se termine jamais un jour de fermeture : une demande reçue un vendredi "
             "à 10 h avec un délai de 24 heures ouvrées reçoit sa réponse au plus tard le "
             "lundi à 10 h.")
