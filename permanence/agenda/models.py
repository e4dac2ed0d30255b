"""The agenda of client accounts: resources (a practitioner, a room…), their availability,
appointment types (motifs), appointments with their history, reminders, and what other
calendars say is busy (CalDAV).

Times are stored in UTC and shown in the resource's zone. An appointment occupies
[block_start, block_end): its own time plus the type's buffers before and after. Two active
appointments of one resource never have overlapping blocks: on PostgreSQL an exclusion
constraint says so (migration 0002), on SQLite the booking service checks inside its write
transaction, which SQLite serialises (transaction_mode IMMEDIATE)."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from permanence.accounts.models import ClientAccount
from permanence.calendars.models import HolidayRegion, default_weekly
from permanence.core.models import StatusHistory


def new_token() -> str:
    return secrets.token_urlsafe(24)


class Resource(models.Model):
    """Who or what is booked: a practitioner, a lawyer, a technician, a room."""

    account = models.ForeignKey(ClientAccount, on_delete=models.CASCADE,
                                related_name="agenda_resources")
    name = models.CharField(_("nom"), max_length=120)
    timezone = models.CharField(_("fuseau horaire"), max_length=64, default="Europe/Paris")
    # mon..sun → [["HH:MM", "HH:MM"], …] in local time: the account calendar's shape.
    weekly = models.JSONField(_("disponibilités hebdomadaires"), default=default_weekly)
    holidays = models.CharField(_("jours fériés"), max_length=8,
                                choices=HolidayRegion.choices, blank=True,
                                default=HolidayRegion.FRANCE)
    active = models.BooleanField(_("actif"), default=True)
    # The read-only ICS feed: a secret in its URL, revoked by drawing a new one.
    ics_token = models.CharField(max_length=64, unique=True, default=new_token)
    # Two-way CalDAV sync with the client's own calendar (password stored encrypted).
    caldav_url = models.URLField(_("calendrier CalDAV"), max_length=500, blank=True)
    caldav_username = models.CharField(_("identifiant CalDAV"), max_length=200, blank=True)
    caldav_password_encrypted = models.TextField(blank=True)
    caldav_sync_token = models.CharField(max_length=500, blank=True)
    caldav_synced_at = models.DateTimeField(null=True, blank=True)
    caldav_error = models.CharField(max_length=500, blank=True)
    caldav_error_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["account", "name", "pk"]
        verbose_name = _("ressource")
        verbose_name_plural = _("ressources")

    def __str__(self) -> str:
        return self.name


class ExceptionKind(models.TextChoices):
    CLOSED = "closed", _("Absence / indisponible")
    OPEN = "open", _("Plage supplémentaire")
    BUSY = "busy", _("Occupé (autre calendrier)")


class AvailabilityException(models.Model):
    """An absence or blocked time (closed), an extra opening (open), or a busy time read from
    the resource's own calendar by the CalDAV sync (busy; `external_href` says which event)."""

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="exceptions")
    kind = models.CharField(_("type"), max_length=8, choices=ExceptionKind.choices,
                            default=ExceptionKind.CLOSED)
    start = models.DateTimeField(_("début"))
    end = models.DateTimeField(_("fin"))
    note = models.CharField(_("motif"), max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    external_href = models.CharField(max_length=500, blank=True)
    external_etag = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["start"]
        verbose_name = _("exception de disponibilité")
        indexes = [models.Index(fields=["resource", "end", "start"])]
        constraints = [
            models.CheckConstraint(condition=models.Q(end__gt=models.F("start")),
                                   name="agenda_exception_end_after_start")]

    def __str__(self) -> str:
        return f"{self.resource_id} {self.kind} {self.start:%Y-%m-%d %H:%M}"


class BookableBy(models.TextChoices):
    STAFF = "staff", _("Secrétariat uniquement")
    ONLINE = "online", _("Secrétariat et en ligne")


class AppointmentType(models.Model):
    """A motif of appointment: duration, buffers, notice, horizon, cancellation cutoff, who
    may book it, the questions to ask and which resources take it."""

    account = models.ForeignKey(ClientAccount, on_delete=models.CASCADE,
                                related_name="appointment_types")
    name = models.CharField(_("nom"), max_length=120)
    duration_minutes = models.PositiveIntegerField(_("durée (minutes)"), default=30)
    buffer_before_minutes = models.PositiveIntegerField(_("battement avant (minutes)"),
                                                        default=0)
    buffer_after_minutes = models.PositiveIntegerField(_("battement après (minutes)"),
                                                       default=0)
    min_notice_minutes = models.PositiveIntegerField(_("délai minimum (minutes)"),
                                                     default=60)
    horizon_days = models.PositiveIntegerField(_("réservable jusqu'à (jours)"), default=90)
    cancel_cutoff_minutes = models.PositiveIntegerField(
        _("annulation en ligne jusqu'à (minutes avant)"), default=24 * 60)
    online = models.BooleanField(_("réservable en ligne"), default=False)
    questions = models.JSONField(_("questions à poser"), default=list, blank=True)
    price_info = models.CharField(_("tarif"), max_length=200, blank=True)
    resources = models.ManyToManyField(Resource, related_name="appointment_types",
                                       verbose_name=_("ressources"))
    active = models.BooleanField(_("actif"), default=True)

    class Meta:
        ordering = ["account", "name", "pk"]
        verbose_name = _("type de rendez-vous")
        verbose_name_plural = _("types de rendez-vous")

    def __str__(self) -> str:
        return self.name


class AppointmentStatus(models.TextChoices):
    HELD = "held", _("Réservé provisoirement")
    CONFIRMED = "confirmed", _("Confirmé")
    CANCELLED = "cancelled", _("Annulé")
    HONOURED = "honoured", _("Honoré")
    NO_SHOW = "no_show", _("Absent")
    EXPIRED = "expired", _("Réservation expirée")


# The statuses whose block keeps the time taken (the exclusion constraint's WHERE).
ACTIVE_STATUSES = (AppointmentStatus.HELD, AppointmentStatus.CONFIRMED,
                   AppointmentStatus.HONOURED, AppointmentStatus.NO_SHOW)

APPOINTMENT_TRANSITIONS: dict[str, set[str]] = {
    AppointmentStatus.HELD: {AppointmentStatus.CONFIRMED, AppointmentStatus.EXPIRED,
                             AppointmentStatus.CANCELLED},
    AppointmentStatus.CONFIRMED: {AppointmentStatus.CANCELLED, AppointmentStatus.HONOURED,
                                  AppointmentStatus.NO_SHOW},
    AppointmentStatus.HONOURED: {AppointmentStatus.NO_SHOW},
    AppointmentStatus.NO_SHOW: {AppointmentStatus.HONOURED},
    AppointmentStatus.CANCELLED: set(),
    AppointmentStatus.EXPIRED: set(),
}


class Origin(models.TextChoices):
    SECRETARIAT = "secretariat", _("Secrétariat")
    ONLINE = "online", _("En ligne")
    CLIENT = "client", _("Espace client")
    SYNC = "sync", _("Synchronisé")


class Appointment(models.Model):
    account = models.ForeignKey(ClientAccount, on_delete=models.CASCADE,
                                related_name="appointments")
    resource = models.ForeignKey(Resource, on_delete=models.PROTECT,
                                 related_name="appointments")
    type = models.ForeignKey(AppointmentType, on_delete=models.PROTECT,
                             related_name="appointments")
    start = models.DateTimeField(_("début"))
    end = models.DateTimeField(_("fin"))
    block_start = models.DateTimeField()
    block_end = models.DateTimeField()
    status = models.CharField(_("statut"), max_length=12, choices=AppointmentStatus.choices,
                              default=AppointmentStatus.CONFIRMED)
    origin = models.CharField(_("origine"), max_length=12, choices=Origin.choices,
                              default=Origin.SECRETARIAT)
    hold_expires_at = models.DateTimeField(null=True, blank=True)
    contact_name = models.CharField(_("nom"), max_length=200, blank=True)
    contact_phone = models.CharField(_("téléphone"), max_length=32, blank=True)
    contact_email = models.EmailField(_("e-mail"), blank=True)
    answers = models.JSONField(_("réponses"), default=dict, blank=True)
    # Booked online: the consent wording the contact ticked, its version
    # (core.consent.text_version) and when; empty when booked by the secretariat.
    consent_text = models.CharField(_("texte accepté"), max_length=400, blank=True)
    consent_version = models.CharField(max_length=12, blank=True)
    consent_at = models.DateTimeField(null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    # The call or conversation it was booked from (ids: the desk and inbox sit beside us).
    call_id = models.BigIntegerField(null=True, blank=True)
    conversation_id = models.BigIntegerField(null=True, blank=True)
    booked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")
    # The contact's link to cancel or move; the UID and SEQUENCE other calendars know it by.
    token = models.CharField(max_length=64, unique=True, default=new_token)
    uid = models.CharField(max_length=200, unique=True)
    sequence = models.PositiveIntegerField(default=0)
    # CalDAV: where the event lives on the resource's server and its last known ETag.
    external_href = models.CharField(max_length=500, blank=True)
    external_etag = models.CharField(max_length=200, blank=True)
    sync_pending = models.BooleanField(default=False)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["start", "pk"]
        verbose_name = _("rendez-vous")
        verbose_name_plural = _("rendez-vous")
        indexes = [
            models.Index(fields=["resource", "block_end", "block_start"]),
            models.Index(fields=["account", "start"]),
            models.Index(fields=["status", "hold_expires_at"]),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(end__gt=models.F("start")),
                                   name="agenda_appointment_end_after_start"),
            models.CheckConstraint(
                condition=models.Q(block_start__lte=models.F("start"),
                                   block_end__gte=models.F("end")),
                name="agenda_appointment_block_covers")]

    def __str__(self) -> str:
        return f"{self.start:%Y-%m-%d %H:%M} {self.contact_name}"


class AppointmentStatusChange(StatusHistory):
    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE,
                                    related_name="status_history")
    from_status = models.CharField(max_length=12)
    to_status = models.CharField(max_length=12)


class AppointmentMove(models.Model):
    """A move (new time or resource): who, when, from where to where."""

    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE,
                                    related_name="moves")
    from_start = models.DateTimeField()
    to_start = models.DateTimeField()
    from_resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="+")
    to_resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="+")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    by_contact = models.BooleanField(default=False)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.appointment_id}: {self.from_start:%Y-%m-%d %H:%M} → {self.to_start:%H:%M}"


class ReminderChannel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")


class ReminderStatus(models.TextChoices):
    PENDING = "pending", _("Prévu")
    SENDING = "sending", _("En cours d'envoi")
    QUEUED = "queued", _("En file")
    SENT = "sent", _("Envoyé")
    DELIVERED = "delivered", _("Délivré")
    FAILED = "failed", _("Échec")
    CANCELLED = "cancelled", _("Annulé")


class Reminder(models.Model):
    """One reminder of one appointment; claimed by a conditional UPDATE before it is sent."""

    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE,
                                    related_name="reminders")
    channel = models.CharField(max_length=8, choices=ReminderChannel.choices)
    due_at = models.DateTimeField()
    status = models.CharField(max_length=12, choices=ReminderStatus.choices,
                              default=ReminderStatus.PENDING)
    sms_id = models.BigIntegerField(null=True, blank=True)
    reason = models.CharField(max_length=300, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at", "pk"]
        indexes = [models.Index(fields=["status", "due_at"])]

    def __str__(self) -> str:
        return f"{self.appointment_id} {self.channel} {self.due_at:%Y-%m-%d %H:%M}"


class AgendaSettings(models.Model):
    """An account's agenda choices: its public booking page and its reminder schedule.
    Without a row, the defaults below apply (the reminders French patients know)."""

    account = models.OneToOneField(ClientAccount, on_delete=models.CASCADE,
                                   related_name="agenda_settings")
    online_booking = models.BooleanField(_("page de réservation en ligne"), default=False)
    public_intro = models.TextField(_("texte d'accueil de la page publique"), blank=True)
    email_reminder = models.BooleanField(_("rappel par e-mail la veille"), default=True)
    sms_reminder = models.BooleanField(
        _("rappel par SMS (deux jours avant si pris plus d'une semaine avant, sinon la "
          "veille)"), default=True)
    allowed_origins = models.TextField(_("sites autorisés à intégrer la page"), blank=True)

    class Meta:
        verbose_name = _("réglages de l'agenda")

    def __str__(self) -> str:
        return str(self.account_id)
