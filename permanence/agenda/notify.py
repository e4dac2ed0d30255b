"""What the contact, the call's timeline and the open agenda pages hear about a booking.

The contact reads French (the platform's language for the people our clients serve),
whatever language the secretary's screen is in. Mail leaves after the commit (core.mail);
an SMS is stored in the transaction and sent after it (core.sms)."""

from __future__ import annotations

import logging
from email.utils import formataddr, parseaddr
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import formats, translation
from django.utils.translation import gettext as _

from permanence.core import background, live_push
from permanence.core.errors import DomainError
from permanence.core.mail import queue_email
from permanence.core.sms import sms_capable, sms_send
from permanence.inbox import services as inbox_services

from .models import Appointment, Resource
from .selectors import resource_tz

logger = logging.getLogger(__name__)

SMS_REF_PREFIX = "agenda:"
SYNC_TASK = "agenda.sync_resource"


def manage_url(appointment: Appointment) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("agenda_public:manage",
                                                   args=[appointment.token])


def contact_from(appointment: Appointment) -> str:
    """The From of mail to the contact: the account's name on the platform's address.
    DEFAULT_FROM_EMAIL may already carry a display name ("Permanence <no-reply@…>"), and an
    account's name may hold a comma or quotes: formataddr quotes/encodes what it must."""
    address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1] or settings.DEFAULT_FROM_EMAIL
    return formataddr((appointment.account.name, address))


def when_text(appointment: Appointment) -> str:
    """« mardi 15 décembre 2026 à 10:30 » in the resource's zone."""
    local = appointment.start.astimezone(resource_tz(appointment.resource))
    return _("%(day)s à %(time)s") % {
        "day": formats.date_format(local, "l j F Y"), "time": local.strftime("%H:%M")}


def _texts(appointment: Appointment, event: str) -> tuple[str, str]:
    """(subject, body) of what the contact is told."""
    facts = {"when": when_text(appointment), "who": appointment.resource.name,
             "account": appointment.account.name, "type": appointment.type.name,
             "link": manage_url(appointment)}
    if event == "cancelled":
        subject = _("Rendez-vous annulé — %(account)s") % facts
        body = _("Votre rendez-vous « %(type)s » du %(when)s avec %(who)s (%(account)s) est "
                 "annulé.") % facts
    else:
        subject = (_("Rendez-vous déplacé — %(account)s") if event == "moved"
                   else _("Rendez-vous confirmé — %(account)s")) % facts
        body = _("Votre rendez-vous « %(type)s » avec %(who)s (%(account)s) est confirmé le "
                 "%(when)s. Pour l'annuler ou le déplacer : %(link)s") % facts
    return subject, body


def contact_tell(appointment: Appointment, event: str) -> None:
    """Booked, moved or cancelled: by e-mail and by SMS when the number takes SMS."""
    with translation.override(settings.LANGUAGE_CODE):
        subject, body = _texts(appointment, event)
    if appointment.contact_email:
        queue_email(to=[appointment.contact_email], subject=subject, body=body,
                    from_email=contact_from(appointment))
    if sms_capable(appointment.contact_phone):
        try:
            sms_send(to=appointment.contact_phone, body=body, account_id=appointment.account_id,
                     ref=f"{SMS_REF_PREFIX}notice:{appointment.pk}:{event}")
        except DomainError as exc:  # opted out, or no SMS channel: the e-mail still goes
            logger.info("agenda: no SMS for appointment %s: %s", appointment.pk, exc.code)


def timeline_record(appointment: Appointment, conversation: Any, *, actor: Any) -> None:
    """The booking on the call's conversation timeline (staff-only entry)."""
    text = _("Rendez-vous pris : %(type)s le %(when)s avec %(who)s") % {
        "type": appointment.type.name, "when": when_text(appointment),
        "who": appointment.resource.name}
    inbox_services.conversation_event_record(
        conversation=conversation, event="appointment_booked", text=text, actor=actor,
        data={"appointment": appointment.pk})


def account_group(account_id: int) -> str:
    return f"agenda-account-{account_id}"


def _push(account_id: int) -> None:
    live_push.send(account_group(account_id), {"type": "agenda.changed", "account": account_id})


def live_refresh(appointment: Appointment) -> None:
    account_id = appointment.account_id
    transaction.on_commit(lambda: _push(account_id))
    if appointment.sync_pending and appointment.resource.caldav_url:
        # The CalDAV sync soon after the change (tasks.sync_resource), once committed.
        background.enqueue_on_commit(SYNC_TASK, appointment.resource_id)


def live_refresh_resource(resource: Resource) -> None:
    account_id = resource.account_id
    transaction.on_commit(lambda: _push(account_id))
