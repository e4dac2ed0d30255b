"""Payment schedules (échéanciers): what a client owes on one or more invoices, split into
instalments agreed with billing staff, each charged (card or SEPA mandate on file) or
reminded (transfer) on its date."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ScheduleStatus(models.TextChoices):
    ACTIVE = "en_cours", _("En cours")
    DONE = "solde", _("Soldé")
    CANCELLED = "annule", _("Annulé")


SCHEDULE_TRANSITIONS: dict[str, set[str]] = {
    ScheduleStatus.ACTIVE: {ScheduleStatus.DONE, ScheduleStatus.CANCELLED},
    ScheduleStatus.DONE: set(),
    ScheduleStatus.CANCELLED: set(),
}


class ScheduleMethod(models.TextChoices):
    CHARGE = "prelevement", _("Carte ou prélèvement enregistré, débité à chaque échéance")
    TRANSFER = "virement", _("Virement, rappelé par e-mail à chaque échéance")


class PaymentSchedule(models.Model):
    account = models.ForeignKey("accounts.ClientAccount", on_delete=models.PROTECT,
                                related_name="payment_schedules")
    invoices = models.ManyToManyField("billing.Invoice", related_name="schedules")
    total_cents = models.PositiveIntegerField()
    method = models.CharField(max_length=12, choices=ScheduleMethod.choices)
    status = models.CharField(max_length=10, choices=ScheduleStatus.choices,
                              default=ScheduleStatus.ACTIVE)
    note = models.CharField(_("accord"), max_length=300, blank=True)
    agreed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                  null=True, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.total_cents / 100:.2f} € ({self.status})"


class InstalmentStatus(models.TextChoices):
    PLANNED = "a_venir", _("À venir")
    REQUESTED = "demandee", _("Débit demandé / rappel envoyé")
    PAID = "payee", _("Payée")
    FAILED = "impayee", _("Impayée")


class Instalment(models.Model):
    schedule = models.ForeignKey(PaymentSchedule, on_delete=models.CASCADE,
                                 related_name="instalments")
    position = models.PositiveSmallIntegerField()
    due_on = models.DateField()
    amount_cents = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=InstalmentStatus.choices,
                              default=InstalmentStatus.PLANNED)
    attempts = models.PositiveSmallIntegerField(default=0)
    reminded_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["schedule", "position"]
        indexes = [models.Index(fields=["status", "due_on"])]
        constraints = [models.UniqueConstraint(fields=["schedule", "position"],
                                               name="instalment_position_unique")]

    def __str__(self) -> str:
        return f"{self.schedule_id}#{self.position} {self.due_on} ({self.status})"
