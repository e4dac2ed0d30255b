"""What the e-mail channel needs to remember beyond the inbox's own models."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class AutoReplyLog(models.Model):
    """One automatic reply (acknowledgement) sent to an address.

    Counted over a sliding 24 h window to cap automatic replies per address: two robots
    acknowledging each other must not ping-pong forever, and a flood of messages from one
    sender must not turn us into a spam cannon.
    """

    address = models.CharField(_("adresse"), max_length=254)
    sent_at = models.DateTimeField(_("envoyé le"))
    conversation = models.ForeignKey("inbox.Conversation", null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("réponse automatique envoyée")
        verbose_name_plural = _("réponses automatiques envoyées")
        indexes = [models.Index(fields=["address", "sent_at"])]

    def __str__(self) -> str:
        return f"{self.address} {self.sent_at:%Y-%m-%d %H:%M}"
