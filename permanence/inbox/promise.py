"""What a customer is told about when they will get an answer: ONE date, from ONE function.

The acknowledgement e-mail, the canned replies' {echeance}, the contact form's confirmation
page and the espace client all show `customer_promise(conversation)`: the promised answer,
i.e. the first response due (while it is pending), else the next response due. The internal
resolution target is never shown to the customer.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils.formats import date_format
from django.utils.translation import get_language

from permanence.calendars.services import spec_for_account_cached
from permanence.core.errors import DomainError

from .models import Conversation

logger = logging.getLogger(__name__)

DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
          "septembre", "octobre", "novembre", "décembre")
PARIS = ZoneInfo("Europe/Paris")


def format_deadline(at: datetime, tz: ZoneInfo | None = None) -> str:
    """« lundi 23 novembre 2026 à 12:00 », in the business time zone. A deadline at midnight
    is the end of the day before (a working-days deadline ends at 24:00 of its last working
    day): « lundi 7 décembre 2026 en fin de journée »."""
    local = at.astimezone(tz or PARIS)
    if local.time() == time(0, 0):
        day = local - timedelta(days=1)
        return f"{_french_date(day)} en fin de journée"
    return f"{_french_date(local)} à {local:%H:%M}"


def _french_date(local: datetime) -> str:
    day = "1er" if local.day == 1 else str(local.day)
    return f"{DAYS[local.weekday()]} {day} {MONTHS[local.month - 1]} {local.year}"


def format_moment(at: datetime, tz: ZoneInfo | None = None) -> str:
    """« lundi 23 novembre 2026 à 00:10 »: an instant as it was (a reception time), never
    read as the end of the day before."""
    local = at.astimezone(tz or PARIS)
    return f"{_french_date(local)} à {local:%H:%M}"


def format_deadline_ui(at: datetime, tz: ZoneInfo | None = None) -> str:
    """format_deadline for a page, in the page's language: French as in the e-mails, other
    languages through Django's localized names (« Monday 23 November 2026 at 12:00 »)."""
    if (get_language() or "fr").startswith("fr"):
        return format_deadline(at, tz)
    local = at.astimezone(tz or PARIS)
    return date_format(local, r"l j F Y \a\t H:i")


@dataclass(frozen=True)
class Promise:
    at: datetime
    text: str  # « lundi 7 décembre 2026 à 10:00 », in the account's time zone


def promised_answer(conversation: Conversation) -> datetime | None:
    """The instant the customer is promised an answer by: the first response due while it
    is pending, else the next response due (a new question after an answer); None when no
    answer is owed."""
    return conversation.first_response_due_at or conversation.next_response_due_at


def _timezone(conversation: Conversation) -> ZoneInfo:
    try:
        return spec_for_account_cached(conversation.account).tz
    except DomainError:  # a broken calendar must not block what the customer is told
        logger.warning("No valid calendar for account %s; using Europe/Paris",
                       conversation.account_id)
        return PARIS


def received_text(conversation: Conversation) -> str:
    """When the request was received, in the account's time zone, as the customer is told
    when it was registered later by hand (manual mode)."""
    return format_moment(conversation.created_at, _timezone(conversation))


def customer_promise(conversation: Conversation, *, ui: bool = False) -> Promise | None:
    """The one promise told to the customer everywhere (see the module's docstring). `ui`:
    written in the page's language rather than in French as in e-mails."""
    at = promised_answer(conversation)
    if at is None:
        return None
    tz = _timezone(conversation)
    return Promise(at=at, text=(format_deadline_ui if ui else format_deadline)(at, tz))
