"""Data subjects' requests (RGPD art. 15–21): who asked what, about whom, by when (one month,
art. 12), how it was handled, and the exports built for them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class RequestKind(models.TextChoices):
    ACCESS = "acces", _("Accès")
    PORTABILITY = "portabilite", _("Portabilité")
    RECTIFICATION = "rectification", _("Rectification")
    ERASURE = "effacement", _("Effacement")
    OBJECTION = "opposition", _("Opposition")


class RequestTarget(models.TextChoices):
    CONTACT = "contact", _("Un contact d'un client")
    ACCOUNT = "compte", _("Un compte client entier")
    PERSON = "personne", _("Une personne (description et e-mail)")


class RequestStatus(models.TextChoices):
    RECEIVED = "recue", _("Reçue")
    IN_PROGRESS = "en_cours", _("En cours")
    DONE = "executee", _("Exécutée")
    REFUSED = "refusee", _("Refusée")


OPEN_STATUSES = (RequestStatus.RECEIVED, RequestStatus.IN_PROGRESS)

REQUEST_TRANSITIONS: dict[str, frozenset[str]] = {
    RequestStatus.RECEIVED: frozenset({RequestStatus.IN_PROGRESS, RequestStatus.DONE,
                                       RequestStatus.REFUSED}),
    RequestStatus.IN_PROGRESS: frozenset({RequestStatus.DONE, RequestStatus.REFUSED}),
}


class SubjectRequest(models.Model):
    """One request of a person (or of a client for its whole account) about its data."""

    kind = models.CharField(_("nature"), max_length=16, choices=RequestKind.choices)
    target = models.CharField(_("personne concernée"), max_length=16,
                              choices=RequestTarget.choices)
    contact = models.ForeignKey("inbox.Contact", null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+",
                                verbose_name=_("contact"))
    account = models.ForeignKey("accounts.ClientAccount", null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+",
                                verbose_name=_("compte client"))
    requester_description = models.TextField(_("description de la personne"), blank=True)
    requester_email = models.EmailField(_("e-mail de la personne"), blank=True)
    status = models.CharField(_("statut"), max_length=16, choices=RequestStatus.choices,
                              default=RequestStatus.RECEIVED)
    received_at = models.DateTimeField(_("reçue le"))
    due_at = models.DateTimeField(_("à traiter avant le"))
    handled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+",
                                   verbose_name=_("traitée par"))
    executed_at = models.DateTimeField(_("exécutée le"), null=True, blank=True)
    refusal_reason = models.TextField(_("motif du refus"), blank=True)
    note = models.TextField(_("note"), blank=True)
    # What was done: counts per model (erasure), what was changed (rectification)…
    result = models.JSONField(_("résultat"), default=dict, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("créée le"))

    class Meta:
        verbose_name = _("demande d'exercice des droits")
        verbose_name_plural = _("demandes d'exercice des droits")
        ordering = ["due_at", "pk"]
        indexes = [models.Index(fields=["status", "due_at"], name="privacy_request_due_idx")]

    def __str__(self) -> str:
        return f"DR-{self.pk}"

    @property
    def reference(self) -> str:
        return f"DR-{self.pk}"


class SubjectRequestStatusChange(models.Model):
    request = models.ForeignKey(SubjectRequest, on_delete=models.CASCADE,
                                related_name="history")
    from_status = models.CharField(max_length=16, choices=RequestStatus.choices)
    to_status = models.CharField(max_length=16, choices=RequestStatus.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField()
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.from_status} → {self.to_status}"


class ExportStatus(models.TextChoices):
    PENDING = "en_preparation", _("En préparation")
    READY = "prete", _("Prête")
    FAILED = "echec", _("Échec")
    # Its file deleted PRIVACY_EXPORT_KEEP_DAYS after it was built (a new export can be asked).
    EXPIRED = "expiree", _("Expirée")


class SubjectExport(models.Model):
    """A ZIP built for an access, portability or reversibility request, under
    MEDIA_ROOT/privacy/exports/, with its SHA-256."""

    request = models.ForeignKey(SubjectRequest, on_delete=models.CASCADE,
                                related_name="exports")
    # The account whose titulaire may download it from the espace client (account exports).
    account = models.ForeignKey("accounts.ClientAccount", null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=16, choices=ExportStatus.choices,
                              default=ExportStatus.PENDING)
    path = models.CharField(max_length=500, blank=True)
    size = models.BigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    rows = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("export de données")
        verbose_name_plural = _("exports de données")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"export {self.pk}"
