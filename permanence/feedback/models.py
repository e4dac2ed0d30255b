"""« Votre avis »: a rating and a comment left from any page of the journey (public site,
checkout, espace client, chat widget), with the page and, when logged in, the account; and
what the team does with it (the improvement board: status, owner, theme, notes)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from permanence.core.models import StatusHistory


class FeedbackStatus(models.TextChoices):
    NEW = "nouveau", _("Nouveau")
    IN_PROGRESS = "en_cours", _("En cours")
    DONE = "traite", _("Traité")


FEEDBACK_TRANSITIONS: dict[str, set[str]] = {
    FeedbackStatus.NEW: {FeedbackStatus.IN_PROGRESS, FeedbackStatus.DONE},
    FeedbackStatus.IN_PROGRESS: {FeedbackStatus.DONE, FeedbackStatus.NEW},
    FeedbackStatus.DONE: {FeedbackStatus.IN_PROGRESS},
}


class Source(models.TextChoices):
    SITE = "site", _("Site public")
    CHECKOUT = "commande", _("Commande")
    PORTAL = "espace", _("Espace client")
    CHAT = "chat", _("Chat")


class Feedback(models.Model):
    page = models.CharField(_("page"), max_length=300)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.SITE)
    rating = models.PositiveSmallIntegerField(_("note"))
    comment = models.TextField(_("commentaire"), max_length=2000, blank=True)
    account = models.ForeignKey("accounts.ClientAccount", on_delete=models.SET_NULL, null=True,
                                blank=True, related_name="feedback")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                             blank=True, related_name="+")
    language = models.CharField(max_length=8, blank=True)
    status = models.CharField(_("statut"), max_length=10, choices=FeedbackStatus.choices,
                              default=FeedbackStatus.NEW)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                              blank=True, related_name="+", verbose_name=_("responsable"))
    theme = models.CharField(_("thème"), max_length=60, blank=True)
    notes = models.TextField(_("notes"), max_length=4000, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "-created_at"]),
                   models.Index(fields=["page"])]
        constraints = [models.CheckConstraint(condition=models.Q(rating__gte=1, rating__lte=5),
                                              name="feedback_rating_1_to_5")]

    def __str__(self) -> str:
        return f"{self.page} ({self.rating}/5)"


class FeedbackStatusChange(StatusHistory):
    feedback = models.ForeignKey(Feedback, on_delete=models.CASCADE, related_name="history")
    from_status = models.CharField(max_length=10, blank=True)
    to_status = models.CharField(max_length=10)
