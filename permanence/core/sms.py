"""SMS as the domain apps see it: length counting, sending, delivery status.

The SMS channel itself (providers, webhooks, opt-outs, inbound messages) is an edge app,
`channels_sms`, above the domain apps. Domain apps (desk, inbox…) must not import it, so it
registers its sending function here when it loads (`sms_backend_register`, like the inbox's
`reach.reply_channel_register`) and tells the listeners of each reference prefix about status
changes (`sms_status_notify`). Without the edge app installed, `sms_send` refuses with the
code "sms_unavailable".

Contract:

- `sms_segments(body)`: encoding ("GSM-7" or "UCS-2"), number of segments, characters (GSM-7
  septets, or UTF-16 code units). GSM-7: 160 per single message, 153 per part of a
  concatenated one, the extension table (€ [ ] { } ~ ^ \\ | and form feed) counting two
  septets; otherwise UCS-2: 70, then 67 per part.
- `sms_send(to=, body=, account_id=, ref=)`: called inside the caller's transaction; stores
  the SMS ("queued") and schedules the provider call once the transaction commits; returns
  the SMS id. DomainError codes: "invalid" (number not E.164, empty body), "sms_unavailable"
  (no channel registered), "sms_opted_out" (the number sent STOP for that account).
- `sms_status_listen(prefix, fn)`: `fn(ref, status, reason)` is called, inside the SMS
  channel's transaction, whenever an SMS whose ref starts with `prefix` becomes "sent",
  "delivered" or "failed" (reason: French text, e.g. "Numéro injoignable (30003)").
- `sms_status(sms_id)`: (status, reason) of one SMS.
- `sms_capable(number)`: an E.164 number that can receive SMS (a mobile one, not a landline).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

import phonenumbers
from django.db import transaction
from django.utils.translation import gettext as _

from .errors import DomainError, invalid

logger = logging.getLogger(__name__)

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
# Characters of the extension table: sent as ESC + one septet.
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

GSM7, UCS2 = "GSM-7", "UCS-2"
_SINGLE = {GSM7: 160, UCS2: 70}
_PART = {GSM7: 153, UCS2: 67}

E164_RE = re.compile(r"^\+[1-9]\d{6,14}$")

# The statuses listeners hear about.
SENT, DELIVERED, FAILED = "sent", "delivered", "failed"


@dataclass(frozen=True)
class Segments:
    encoding: str  # "GSM-7" or "UCS-2"
    segments: int
    chars: int  # septets (GSM-7) or UTF-16 code units (UCS-2)


def sms_segments(body: str) -> Segments:
    """How `body` travels: its encoding, how many SMS it takes, its length in that encoding."""
    body = body or ""
    septets = 0
    for char in body:
        if char in GSM7_BASIC:
            septets += 1
        elif char in GSM7_EXTENSION:
            septets += 2
        else:
            # One character outside GSM-7 switches the whole message to UCS-2, counted in
            # UTF-16 code units (an emoji outside the BMP takes two).
            units = len(body.encode("utf-16-le")) // 2
            return Segments(UCS2, _count(units, UCS2), units)
    return Segments(GSM7, _count(septets, GSM7), septets)


def _count(length: int, encoding: str) -> int:
    if length <= _SINGLE[encoding]:
        return 1 if length else 0
    part = _PART[encoding]
    return -(-length // part)


_SMS_TYPES = (phonenumbers.PhoneNumberType.MOBILE,
              phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)


def sms_capable(number: str) -> bool:
    """An E.164 number that can receive SMS: mobile (or a number plan that does not tell
    mobiles from landlines). A French landline (01…05) cannot."""
    if not E164_RE.match(number or ""):
        return False
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.number_type(parsed) in _SMS_TYPES


@dataclass(frozen=True)
class SmsBackend:
    """What the SMS channel registers: `send(to=, body=, account_id=, ref=) -> id` (stores the
    SMS in the caller's transaction, provider call after commit) and `status(id)`."""

    send: Callable[..., int]
    status: Callable[[int], tuple[str, str]]


_BACKEND: list[SmsBackend] = []
_LISTENERS: list[tuple[str, Callable[[str, str, str], None]]] = []


def sms_backend_register(backend: SmsBackend) -> None:
    _BACKEND[:] = [backend]


def sms_available() -> bool:
    return bool(_BACKEND)


def _backend() -> SmsBackend:
    if not _BACKEND:
        raise DomainError("sms_unavailable", _("L'envoi de SMS n'est pas configuré."),
                          status=503)
    return _BACKEND[0]


def sms_send(*, to: str, body: str, account_id: int | None, ref: str) -> int:
    """Queue one SMS to `to` (E.164) in the caller's transaction; the provider is called
    once it commits. Returns the SMS id."""
    to = (to or "").strip()
    if not E164_RE.match(to):
        raise invalid(to=_("Numéro de téléphone invalide (format international attendu, "
                           "par exemple +33612345678)."))
    if not (body or "").strip():
        raise invalid(body=_("Le message est vide."))
    return _backend().send(to=to, body=body, account_id=account_id, ref=ref or "")


def sms_status(sms_id: int) -> tuple[str, str]:
    """(status, reason) of an SMS: "queued", "sent", "delivered" or "failed"."""
    return _backend().status(sms_id)


def sms_status_listen(prefix: str, fn: Callable[[str, str, str], None]) -> None:
    """Call `fn(ref, status, reason)` when an SMS whose ref starts with `prefix` changes
    status (registered once, at start-up, by the app that sends them)."""
    if (prefix, fn) not in _LISTENERS:
        _LISTENERS.append((prefix, fn))


def sms_status_notify(*, ref: str, status: str, reason: str = "") -> None:
    """For the SMS channel: tell the listeners of `ref`'s prefix (in its transaction).

    Each listener runs in a savepoint and its failure is logged, not raised: the SMS's own
    record (its "sent" above all) must never be rolled back by a listener, or the SMS would
    be sent again."""
    for prefix, fn in list(_LISTENERS):
        if ref.startswith(prefix):
            try:
                with transaction.atomic():
                    fn(ref, status, reason)
            except Exception:
                logger.exception("SMS status listener %r failed for %s (%s)", prefix, ref,
                                 status)
