"""Quality reviews: evaluation grids (global or per client account), their weighted
criteria, and a supervisor's review of one call or one conversation of an agent, which the
agent reads and acknowledges.

Editing a grid that reviews already used: each score keeps a snapshot of the criterion's
label and weight as scored (Score.label, Score.weight) and the review its weighted total, so
a grid stays editable (wording, weights, order, new or removed criteria) for the next reviews
while past ones read — and average — exactly as they were scored. Forbidding edits would
force supervisors to copy a grid for each wording fix and split the averages across grids.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

SCORE_MAX = 4  # each criterion is scored 0–4, or N/A (None)
SCORE_CHOICES = [(4, _("4 — Excellent")), (3, _("3 — Bien")), (2, _("2 — Moyen")),
                 (1, _("1 — Insuffisant")), (0, _("0 — Absent"))]


class Grid(models.Model):
    """An evaluation grid: global (no account) or a client account's own."""

    name = models.CharField(_("nom"), max_length=120)
    account = models.ForeignKey("accounts.ClientAccount", null=True, blank=True,
                                on_delete=models.PROTECT, related_name="quality_grids",
                                verbose_name=_("compte client"))
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name = _("grille d'évaluation")
        ordering = ["name", "pk"]
        constraints = [
            # One active grid per account, and one active global grid: the applicable grid
            # of a call is never ambiguous.
            models.UniqueConstraint(fields=["account"], condition=models.Q(is_active=True),
                                    name="quality_one_active_grid_per_account"),
            models.UniqueConstraint(fields=["is_active"],
                                    condition=models.Q(is_active=True, account__isnull=True),
                                    name="quality_one_active_global_grid"),
        ]

    def __str__(self) -> str:
        return self.name


class Criterion(models.Model):
    grid = models.ForeignKey(Grid, on_delete=models.CASCADE, related_name="criteria")
    label = models.CharField(_("critère"), max_length=200)
    description = models.TextField(_("description"), max_length=1000, blank=True)
    weight = models.PositiveSmallIntegerField(_("poids"), default=1)
    order = models.PositiveSmallIntegerField(_("ordre"), default=0)

    class Meta:
        verbose_name = _("critère")
        ordering = ["order", "pk"]
        constraints = [models.CheckConstraint(
            condition=models.Q(weight__gte=1, weight__lte=100),
            name="quality_criterion_weight_1_100")]

    def __str__(self) -> str:
        return self.label


class Review(models.Model):
    """A supervisor's review of one call or one conversation handled by `agent`."""

    grid = models.ForeignKey(Grid, on_delete=models.PROTECT, related_name="reviews")
    account = models.ForeignKey("accounts.ClientAccount", on_delete=models.PROTECT,
                                related_name="quality_reviews",
                                verbose_name=_("compte client"))
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                              related_name="quality_reviews", verbose_name=_("télésecrétaire"))
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                 related_name="+", verbose_name=_("évaluateur"))
    # What was reviewed: exactly one of the two. A call or conversation erased (GDPR) takes
    # its reviews with it: a review cannot outlive what it judged.
    call = models.ForeignKey("desk.Call", null=True, blank=True, on_delete=models.CASCADE,
                             related_name="+", verbose_name=_("appel"))
    conversation = models.ForeignKey("inbox.Conversation", null=True, blank=True,
                                     on_delete=models.CASCADE, related_name="+",
                                     verbose_name=_("dossier"))
    mystery = models.BooleanField(_("appel mystère"), default=False)
    # Weighted total in %, two decimals; None when every criterion was N/A.
    score_pct = models.DecimalField(_("note globale (%)"), max_digits=5, decimal_places=2,
                                    null=True, blank=True)
    coaching = models.TextField(_("notes de coaching"), max_length=4000, blank=True)
    created_at = models.DateTimeField()
    acknowledged_at = models.DateTimeField(_("lu le"), null=True, blank=True)
    agent_reply = models.TextField(_("réponse de la télésecrétaire"), max_length=2000,
                                   blank=True)

    class Meta:
        verbose_name = _("évaluation qualité")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["agent", "-created_at"]),
                   models.Index(fields=["account", "created_at"]),
                   models.Index(fields=["created_at"])]
        constraints = [models.CheckConstraint(
            condition=(models.Q(call__isnull=False, conversation__isnull=True)
                       | models.Q(call__isnull=True, conversation__isnull=False)),
            name="quality_review_one_subject")]

    def __str__(self) -> str:
        return f"{_('Évaluation')} #{self.pk}"


class Score(models.Model):
    """One criterion of a review, with the criterion's label and weight as scored."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="scores")
    criterion = models.ForeignKey(Criterion, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")
    label = models.CharField(_("critère"), max_length=200)
    weight = models.PositiveSmallIntegerField(_("poids"))
    position = models.PositiveSmallIntegerField(default=0)
    value = models.PositiveSmallIntegerField(_("note"), null=True, blank=True)  # None: N/A
    comment = models.TextField(_("commentaire"), max_length=1000, blank=True)

    class Meta:
        ordering = ["position", "pk"]
        constraints = [models.CheckConstraint(
            condition=models.Q(value__isnull=True) | models.Q(value__lte=SCORE_MAX),
            name="quality_score_0_4")]

    def __str__(self) -> str:
        return f"{self.label}: {self.value}"
