"""Writes of the agenda: booking, holding, moving, cancelling, marking; blocked time.

Booking never double-books. Every write that takes time runs in one transaction that first
expires the stale holds in its way, then checks the block is free and inside the
resource's openings, then inserts. On PostgreSQL two such transactions can both pass the
check; the exclusion constraint (migration 0002) makes the second INSERT wait for the first
and fail, which we answer as "slot taken" (409). SQLite runs write transactions one at a
time (BEGIN IMMEDIATE), so the check alone holds there.

The contact is told (booked, moved, cancelled) and the reminders are planned in the same
transaction; mail and SMS leave after it commits (core.mail, core.sms)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from permanence.accounts.models import User
from permanence.accounts.selectors import accounts_visible_to
from permanence.audit.actions import Action
from permanence.audit.services import audit_record
from permanence.core import clock
from permanence.core.consent import text_version
from permanence.core.errors import DomainError, Forbidden, invalid, invalid_fields

from . import availability, notify, reminders, selectors
from .machine import appointment_transition
from .models import (
    Appointment,
    AppointmentMove,
    AppointmentStatus,
    AppointmentType,
    AvailabilityException,
    ExceptionKind,
    Origin,
    Resource,
)
from .permissions import can_book

# The set-up services live in services_setup; callers know them as services.* too.
from .services_setup import (
    TYPE_FIELDS,
    resource_create,
    resource_ics_revoke,
    resource_update,
    settings_update,
    type_create,
    type_update,
)

# Named for the type checker's re-export rule; what this module defines is public too.
__all__ = ["TYPE_FIELDS", "resource_create", "resource_ics_revoke", "resource_update",
           "settings_update", "type_create", "type_update"]

HOLD_DURATION = timedelta(minutes=5)
MAX_NOTES = 2000


@dataclass(frozen=True)
class Contact:
    name: str = ""
    phone: str = ""
    email: str = ""


@dataclass
class Booking:
    """What a booking needs besides the time."""

    contact: Contact = field(default_factory=Contact)
    answers: dict[str, str] = field(default_factory=dict)
    notes: str = ""
    origin: str = Origin.SECRETARIAT
    call_id: int | None = None
    conversation: Any = None  # an inbox Conversation: the booking shows on its timeline
    consent_text: str = ""  # online: the consent wording the contact ticked


def slot_taken() -> DomainError:
    return DomainError("slot_taken", _("Ce créneau vient d'être pris : choisissez-en un autre."),
                       status=409, fields={"start": [_("Ce créneau n'est plus libre.")]})


def _check_actor(actor: User | None, account_id: int) -> None:
    """Staff and clients book within the accounts they see; the contact (actor None) books
    online through the public page, whose own checks ran before."""
    if actor is None:
        return
    if not can_book(actor) or not accounts_visible_to(actor).filter(
            pk=account_id).exists():
        raise Forbidden(_("Vous ne pouvez pas gérer l'agenda de ce client."))


def _aware(start: Any) -> datetime:
    if not isinstance(start, datetime) or start.tzinfo is None:
        raise invalid(start=_("Indiquez une date et une heure avec leur fuseau horaire."))
    return start


def _block(kind: AppointmentType, start: datetime) -> tuple[datetime, datetime, datetime]:
    end = start + timedelta(minutes=kind.duration_minutes)
    return (end, start - timedelta(minutes=kind.buffer_before_minutes),
            end + timedelta(minutes=kind.buffer_after_minutes))


def _holds_expire(resource_id: int, block_start: datetime, block_end: datetime,
                  now: datetime) -> None:
    """Holds whose time ran out stop blocking (status "expired") before we look."""
    stale = Appointment.objects.filter(
        resource_id=resource_id, status=AppointmentStatus.HELD, hold_expires_at__lte=now,
        block_end__gt=block_start, block_start__lt=block_end).values_list("pk", flat=True)
    for pk in list(stale):
        appointment_transition(appointment=pk, to=AppointmentStatus.EXPIRED, now=now)


def _check_free(*, kind: AppointmentType, resource: Resource, start: datetime,
                now: datetime, online: bool, exclude: int | None = None) -> None:
    """Raise unless `start` may be booked now for `kind` on `resource`."""
    end, block_start, block_end = _block(kind, start)
    if not resource.active or not kind.resources.filter(pk=resource.pk).exists():
        raise invalid(resource=_("Cet agenda ne prend pas ce type de rendez-vous."))
    if online:
        rules = selectors.rules_of(kind)
        if start < now + rules.min_notice:
            raise invalid(start=_("Ce créneau est trop proche : réservez plus tard."))
        if start > now + rules.horizon:
            raise invalid(start=_("Ce créneau est trop loin dans le calendrier."))
    elif start < now - timedelta(minutes=5):
        raise invalid(start=_("Ce créneau est déjà passé."))
    _holds_expire(resource.pk, block_start, block_end, now)
    cal = selectors.calendars([resource], block_start - timedelta(days=1),
                              block_end + timedelta(days=1), exclude=exclude)[resource.pk]
    if not availability.fits(spec=cal.spec, extra_open=cal.extra_open, start=start, end=end):
        raise invalid(start=_("Cet horaire est en dehors des disponibilités de l'agenda."))
    if availability.Busy(cal.busy).overlaps(block_start, block_end):
        raise slot_taken()


def _first_free_resource(kind: AppointmentType, start: datetime, now: datetime,
                         online: bool) -> Resource:
    errors: list[DomainError] = []
    for resource in kind.resources.filter(active=True).order_by("name", "pk"):
        try:
            _check_free(kind=kind, resource=resource, start=start, now=now, online=online)
        except DomainError as exc:
            errors.append(exc)
            continue
        return resource
    # Taken somewhere is "taken"; outside everybody's hours is the field error it is.
    if errors and all(e.status != 409 for e in errors):
        raise errors[0]
    raise slot_taken()


def _insert(appointment: Appointment) -> None:
    """INSERT in a savepoint: the exclusion constraint's refusal becomes a 409."""
    try:
        with transaction.atomic():
            appointment.save(force_insert=True)
    except IntegrityError as exc:
        if "agenda_no_overlap" in str(exc) or "exclusion" in str(exc).lower():
            raise slot_taken() from None
        raise


def _answers(kind: AppointmentType, answers: dict[str, Any], *, required: bool) -> dict[str, str]:
    questions = [str(q) for q in (kind.questions or []) if str(q).strip()]
    clean = {q: str(answers.get(q, "") or "").strip()[:500] for q in questions}
    if required:
        missing = [q for q in questions if not clean[q]]
        if missing:
            raise invalid_fields({"answers": [_("Réponse attendue : %(q)s") % {"q": q}
                                              for q in missing]})
    return clean


def _check_contact(contact: Contact, *, online: bool) -> None:
    errors: dict[str, list[str]] = {}
    if not contact.name.strip():
        errors["contact.name"] = [_("Indiquez le nom de la personne.")]
    if online and not contact.email.strip() and not contact.phone.strip():
        errors["contact.email"] = [_("Indiquez un e-mail ou un téléphone pour la "
                                     "confirmation.")]
    if errors:
        raise DomainError("invalid", _("Informations manquantes."), status=422, fields=errors)


@transaction.atomic
def appointment_hold(*, actor: User, kind: AppointmentType, start: datetime,
                     resource: Resource | None = None, call_id: int | None = None,
                     now: datetime | None = None) -> Appointment:
    """Take a slot for a few minutes while the secretary is on the call."""
    _check_actor(actor, kind.account_id)
    now = now or clock.now()
    start = _aware(start)
    resource = resource or _first_free_resource(kind, start, now, online=False)
    _check_free(kind=kind, resource=resource, start=start, now=now, online=False)
    end, block_start, block_end = _block(kind, start)
    appointment = Appointment(
        account_id=kind.account_id, resource=resource, type=kind, start=start, end=end,
        block_start=block_start, block_end=block_end, status=AppointmentStatus.HELD,
        hold_expires_at=now + HOLD_DURATION, booked_by=actor, call_id=call_id,
        uid=f"{uuid.uuid4()}@permanence", created_at=now, updated_at=now)
    _insert(appointment)
    return appointment


@transaction.atomic
def appointment_book(*, actor: User | None, kind: AppointmentType, start: datetime,
                     booking: Booking, resource: Resource | None = None,
                     hold: Appointment | None = None,
                     now: datetime | None = None) -> Appointment:
    """Book `kind` at `start` (on `resource`, or the first resource free then) or raise
    DomainError: 409 "slot_taken" when somebody was faster, 422 with field errors."""
    _check_actor(actor, kind.account_id)
    now = now or clock.now()
    start = _aware(start)
    online = booking.origin == Origin.ONLINE
    if online and not kind.online:
        raise invalid(type=_("Ce rendez-vous ne se réserve pas en ligne."))
    _check_contact(booking.contact, online=online)
    answers = _answers(kind, booking.answers, required=online)
    if hold is not None:
        appointment = _confirm_hold(hold, kind=kind, start=start, actor=actor, now=now)
    else:
        resource = resource or _first_free_resource(kind, start, now, online=online)
        _check_free(kind=kind, resource=resource, start=start, now=now, online=online)
        end, block_start, block_end = _block(kind, start)
        appointment = Appointment(
            account_id=kind.account_id, resource=resource, type=kind, start=start, end=end,
            block_start=block_start, block_end=block_end, status=AppointmentStatus.CONFIRMED,
            uid=f"{uuid.uuid4()}@permanence", created_at=now, updated_at=now)
    appointment.contact_name = booking.contact.name.strip()[:200]
    appointment.contact_phone = booking.contact.phone.strip()[:32]
    appointment.contact_email = booking.contact.email.strip()[:254]
    appointment.answers = answers
    appointment.notes = booking.notes.strip()[:MAX_NOTES]
    appointment.origin = booking.origin
    appointment.booked_by = actor
    appointment.call_id = booking.call_id or appointment.call_id
    appointment.conversation_id = getattr(booking.conversation, "pk", None)
    appointment.sync_pending = bool(appointment.resource.caldav_url)
    if booking.consent_text:
        appointment.consent_text = booking.consent_text[:400]
        appointment.consent_version = text_version(appointment.consent_text)
        appointment.consent_at = now
    if hold is None:
        _insert(appointment)
    else:
        appointment.save()
    _after_change(appointment, "booked", actor=actor, conversation=booking.conversation,
                  now=now)
    return appointment


def _confirm_hold(hold: Appointment, *, kind: AppointmentType, start: datetime,
                  actor: User | None, now: datetime) -> Appointment:
    locked = Appointment.objects.select_for_update().get(pk=hold.pk)
    if (locked.status != AppointmentStatus.HELD or locked.type_id != kind.pk
            or locked.start != start):
        raise slot_taken()
    if locked.hold_expires_at and locked.hold_expires_at <= now:
        # Expired but nobody took it meanwhile: still ours if the block is free.
        _check_free(kind=kind, resource=locked.resource, start=start, now=now, online=False,
                    exclude=locked.pk)

    def stamp(a: Appointment, *_args: Any) -> None:
        a.hold_expires_at = None
        a.updated_at = now

    return appointment_transition(appointment=locked, to=AppointmentStatus.CONFIRMED,
                                  actor=actor, stamp=stamp, now=now)


@transaction.atomic
def appointment_move(*, actor: User | None, appointment: Appointment, start: datetime,
                     resource: Resource | None = None, by_contact: bool = False,
                     now: datetime | None = None) -> Appointment:
    """A new time (and/or resource) for a confirmed appointment; the contact is told."""
    _check_actor(actor, appointment.account_id)
    now = now or clock.now()
    start = _aware(start)
    locked = (Appointment.objects.select_for_update().select_related("type", "resource")
              .get(pk=appointment.pk))
    if locked.status != AppointmentStatus.CONFIRMED:
        raise DomainError("invalid_transition", _("Seul un rendez-vous confirmé se déplace."),
                          status=409)
    if by_contact:
        _check_cutoff(locked, now)
    target = resource or locked.resource
    _check_free(kind=locked.type, resource=target, start=start, now=now, online=by_contact,
                exclude=locked.pk)
    AppointmentMove.objects.create(
        appointment=locked, from_start=locked.start, to_start=start,
        from_resource_id=locked.resource_id, to_resource=target, actor=actor,
        by_contact=by_contact, at=now)
    end, block_start, block_end = _block(locked.type, start)
    locked.start, locked.end = start, end
    locked.block_start, locked.block_end = block_start, block_end
    locked.resource = target
    locked.sequence += 1
    locked.updated_at = now
    locked.sync_pending = bool(target.caldav_url)
    try:
        with transaction.atomic():
            locked.save()
    except IntegrityError:
        raise slot_taken() from None
    _after_change(locked, "moved", actor=actor, now=now)
    return locked


def _check_cutoff(appointment: Appointment, now: datetime) -> None:
    cutoff = appointment.start - timedelta(minutes=appointment.type.cancel_cutoff_minutes)
    if now > cutoff:
        raise DomainError("cutoff", _("Il est trop tard pour modifier ce rendez-vous en "
                                      "ligne : appelez le secrétariat."), status=409)


@transaction.atomic
def appointment_cancel(*, actor: User | None, appointment: Appointment, reason: str = "",
                       by_contact: bool = False, now: datetime | None = None) -> Appointment:
    """Cancel (the slot is free again at once); the contact is told."""
    _check_actor(actor, appointment.account_id)
    now = now or clock.now()
    if by_contact:
        _check_cutoff(appointment, now)

    moved: list[bool] = []  # stamp runs only on a real move: cancelling twice tells once

    def stamp(a: Appointment, *_args: Any) -> None:
        moved.append(True)
        a.sequence += 1
        a.updated_at = now
        a.sync_pending = bool(a.resource.caldav_url)

    cancelled = appointment_transition(appointment=appointment.pk,
                                       to=AppointmentStatus.CANCELLED, actor=actor,
                                       note=reason[:300], stamp=stamp, now=now)
    if moved:
        _after_change(cancelled, "cancelled", actor=actor, now=now)
    return cancelled


@transaction.atomic
def appointment_mark(*, actor: User, appointment: Appointment, status: str,
                     now: datetime | None = None) -> Appointment:
    """Honoured or absent (no-show), once the time has come."""
    _check_actor(actor, appointment.account_id)
    now = now or clock.now()
    if status not in (AppointmentStatus.HONOURED, AppointmentStatus.NO_SHOW):
        raise invalid(status=_("Statut inconnu."))
    if appointment.start > now:
        raise DomainError("too_early", _("Ce rendez-vous n'a pas encore eu lieu."), status=409)
    marked = appointment_transition(appointment=appointment.pk, to=status, actor=actor,
                                    now=now)
    audit_record(actor=actor, action=Action.UPDATE, target=marked,
                 changes={"status": status}, account=marked.account)
    return marked


@transaction.atomic
def holds_expire(*, now: datetime | None = None) -> int:
    """The scheduler's sweep: holds whose time ran out."""
    now = now or clock.now()
    ids = list(Appointment.objects.filter(status=AppointmentStatus.HELD,
                                          hold_expires_at__lte=now).values_list("pk",
                                                                                flat=True))
    for pk in ids:
        appointment_transition(appointment=pk, to=AppointmentStatus.EXPIRED, now=now)
    return len(ids)


def _after_change(appointment: Appointment, event: str, *, actor: User | None,
                  now: datetime, conversation: Any = None) -> None:
    """What every booking, move and cancellation does besides the row: audit, the
    contact told, reminders (re)planned, the call's timeline, live agendas refreshed."""
    audit_record(actor=actor, action=Action.CREATE if event == "booked" else Action.UPDATE,
                 target=appointment, account=appointment.account,
                 changes={"event": event, "start": appointment.start.isoformat(),
                       "resource": appointment.resource_id})
    if event == "cancelled":
        reminders.reminders_cancel(appointment)
    else:
        reminders.reminders_plan(appointment, now=now)
    notify.contact_tell(appointment, event)
    if conversation is not None:
        notify.timeline_record(appointment, conversation, actor=actor)
    notify.live_refresh(appointment)


# --------------------------------------------------------------------------- blocked time


@transaction.atomic
def exception_add(*, actor: User, resource: Resource, kind: str, start: datetime,
                  end: datetime, note: str = "") -> AvailabilityException:
    """Block time (an absence, an afternoon off) or open an extra slot."""
    _check_actor(actor, resource.account_id)
    start, end = _aware(start), _aware(end)
    if kind not in (ExceptionKind.CLOSED, ExceptionKind.OPEN):
        raise invalid(kind=_("Type inconnu."))
    if end <= start:
        raise invalid(end=_("La fin doit suivre le début."))
    if end - start > timedelta(days=366):
        raise invalid(end=_("Une exception dure au plus un an."))
    exception = AvailabilityException.objects.create(
        resource=resource, kind=kind, start=start, end=end, note=note.strip()[:200],
        created_by=actor)
    audit_record(actor=actor, action=Action.CREATE, target=exception,
                 account=resource.account, changes={"kind": kind, "start": start.isoformat(),
                                                 "end": end.isoformat()})
    notify.live_refresh_resource(resource)
    return exception


@transaction.atomic
def exception_remove(*, actor: User, exception: AvailabilityException) -> None:
    _check_actor(actor, exception.resource.account_id)
    if exception.kind == ExceptionKind.BUSY:
        raise DomainError("synced", _("Ce créneau vient du calendrier synchronisé : "
                                      "modifiez-le là-bas."), status=409)
    audit_record(actor=actor, action=Action.DELETE, target=exception,
                 account=exception.resource.account, changes={"kind": exception.kind})
    exception.delete()
    notify.live_refresh_resource(exception.resource)

