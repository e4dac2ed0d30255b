"""The espace client's optional daily digest: who asked for it, for which account, and the
last day it was sent (so that a day is sent once, whatever the scheduler does)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from permanence.accounts.models import ClientAccount


class DigestSubscription(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="desk_digests")
    account = models.ForeignKey(ClientAccount, on_delete=models.CASCADE,
                                related_name="desk_digests")
    last_sent_for = models.DateField(_("dernier jour envoyé"), null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("récapitulatif quotidien")
        verbose_name_plural = _("récapitulatifs quotidiens")
        constraints = [models.UniqueConstraint(fields=["user", "account"],
                                               name="digest_user_account")]

    def __str__(self) -> str:
        return f"DigestSubscription #{self.pk}"
