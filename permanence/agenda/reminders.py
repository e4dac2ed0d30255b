"""Reminders of appointments, planned at booking and sent by the scheduler.

Default schedule (the one French patients know), per account in AgendaSettings: an e-mail
the day before; an SMS two days before when the appointment was booked more than a week
ahead, otherwise the day before. A reminder whose time has already passed at booking is not
planned (the confirmation just went). Each reminder is claimed by a conditional UPDATE
before it is sent, so two schedulers never send one twice; the e-mail is sent with no
transaction open and marked sent or failed with the reason; an SMS follows its provider's
receipts (queued → sent → delivered / failed), heard through core.sms."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from permanence.core import clock
from permanence.core.errors import DomainError
from permanence.core.sms import DELIVERED, FAILED, SENT, sms_capable, sms_send

from .models import Appointment, AppointmentStatus, Reminder, ReminderChannel, ReminderStatus
from .notify import SMS_REF_PREFIX, contact_from, manage_url, when_text
from .selectors import settings_for

logger = logging.getLogger(__name__)

DAY = timedelta(days=1)
BATCH = 200
# A reminder carries the link to cancel or move online: it leaves at least this long
# before the type's cancellation cutoff, so the contact can still use it.
LEAD = timedelta(hours=2)


def _due(appointment: Appointment, before: timedelta) -> datetime:
    """`before` the start, or a little earlier (at most a day) when that time would fall
    after the cancellation cutoff: with the default cutoff (24 h) the day-before reminder
    would otherwise arrive exactly when its link stops working."""
    due = appointment.start - before
    cutoff = appointment.start - timedelta(minutes=appointment.type.cancel_cutoff_minutes)
    if cutoff - LEAD < due <= cutoff - LEAD + DAY:
        due = cutoff - LEAD
    return due


def plan(appointment: Appointment, now: datetime) -> list[tuple[str, datetime]]:
    """(channel, due) of the reminders `appointment` should get, booked or moved `now`."""
    prefs = settings_for(appointment.account_id)
    out = []
    if prefs.email_reminder and appointment.contact_email:
        out.append((ReminderChannel.EMAIL, _due(appointment, DAY)))
    if prefs.sms_reminder and sms_capable(appointment.contact_phone):
        ahead = appointment.start - now
        out.append((ReminderChannel.SMS, _due(appointment, 2 * DAY if ahead > 7 * DAY
                                              else DAY)))
    return [(channel, due) for channel, due in out if due > now]


def reminders_plan(appointment: Appointment, *, now: datetime) -> None:
    """(Re)plan: pending reminders are replaced (a move changes their time)."""
    reminders_cancel(appointment)
    Reminder.objects.bulk_create([Reminder(appointment=appointment, channel=c, due_at=d)
                                  for c, d in plan(appointment, now)])


def reminders_cancel(appointment: Appointment) -> None:
    Reminder.objects.filter(appointment=appointment, status=ReminderStatus.PENDING).update(
        status=ReminderStatus.CANCELLED)


def _text(appointment: Appointment) -> tuple[str, str]:
    with translation.override(settings.LANGUAGE_CODE):
        facts = {"when": when_text(appointment), "who": appointment.resource.name,
                 "account": appointment.account.name, "link": manage_url(appointment)}
        return (_("Rappel : rendez-vous le %(when)s — %(account)s") % facts,
                _("Rappel : rendez-vous le %(when)s avec %(who)s (%(account)s). "
                  "Empêché ? Annulez ou déplacez : %(link)s") % facts)


def _claim(reminder_id: int, to: str) -> bool:
    return Reminder.objects.filter(pk=reminder_id, status=ReminderStatus.PENDING).update(
        status=to) == 1


def reminders_send(*, now: datetime | None = None) -> int:
    """Send the reminders that are due (the scheduler's job). Returns how many went."""
    now = now or clock.now()
    due = list(Reminder.objects.filter(status=ReminderStatus.PENDING, due_at__lte=now)
               .select_related("appointment__resource", "appointment__account",
                               "appointment__type")[:BATCH])
    sent = 0
    for reminder in due:
        appointment = reminder.appointment
        if appointment.status != AppointmentStatus.CONFIRMED or appointment.start <= now:
            Reminder.objects.filter(pk=reminder.pk, status=ReminderStatus.PENDING).update(
                status=ReminderStatus.CANCELLED)
            continue
        if reminder.channel == ReminderChannel.EMAIL:
            sent += _send_email(reminder, appointment, now)
        else:
            sent += _send_sms(reminder, appointment)
    return sent


def _send_email(reminder: Reminder, appointment: Appointment, now: datetime) -> int:
    if not _claim(reminder.pk, ReminderStatus.SENDING):
        return 0
    subject, body = _text(appointment)
    try:  # no transaction is open here: the SMTP conversation may take its time
        EmailMessage(subject=subject, body=body, to=[appointment.contact_email],
                     from_email=contact_from(appointment)).send()
    except Exception as exc:  # SMTP and socket errors alike: shown on the appointment
        Reminder.objects.filter(pk=reminder.pk).update(status=ReminderStatus.FAILED,
                                                       reason=str(exc)[:300])
        logger.warning("agenda: reminder %s failed: %s", reminder.pk, exc)
        return 0
    Reminder.objects.filter(pk=reminder.pk).update(status=ReminderStatus.SENT, sent_at=now)
    return 1


def _send_sms(reminder: Reminder, appointment: Appointment) -> int:
    _subject, body = _text(appointment)
    with transaction.atomic():
        if not _claim(reminder.pk, ReminderStatus.QUEUED):
            return 0
        try:
            sms_id = sms_send(to=appointment.contact_phone, body=body,
                              account_id=appointment.account_id,
                              ref=f"{SMS_REF_PREFIX}reminder:{reminder.pk}")
        except DomainError as exc:  # opted out, no channel, bad number: said, not hidden
            Reminder.objects.filter(pk=reminder.pk).update(status=ReminderStatus.FAILED,
                                                           reason=str(exc.message)[:300])
            return 0
        Reminder.objects.filter(pk=reminder.pk).update(sms_id=sms_id)
    return 1


_FROM_SMS = {SENT: ReminderStatus.SENT, DELIVERED: ReminderStatus.DELIVERED,
             FAILED: ReminderStatus.FAILED}


def reminder_sms_status(ref: str, status: str, reason: str) -> None:
    """core.sms listener: an SMS of ours changed status (reminders only; notices are not
    tracked per appointment)."""
    prefix = f"{SMS_REF_PREFIX}reminder:"
    if not ref.startswith(prefix) or status not in _FROM_SMS:
        return
    try:
        reminder_id = int(ref[len(prefix):])
    except ValueError:
        return
    updates: dict[str, object] = {"status": _FROM_SMS[status], "reason": reason[:300]}
    if status == SENT:
        updates["sent_at"] = clock.now()
    qs = Reminder.objects.filter(pk=reminder_id)
    if status == SENT:  # a late "sent" never overwrites "delivered" or "failed"
        qs = qs.filter(status=ReminderStatus.QUEUED)
    qs.update(**updates)
