"""Usage metered from the real work (issue 12): calls answered, messages forwarded,
appointments booked, e-mail replies, chats answered by a person, SMS sent — one
UsageRecord per source event.

Each source is read through its app's selectors, in id order, from a MeteringCursor:
`last_id` is how far it was read, `pending` the ids read but not settled yet (a call still
in progress, a forward in the queue, an appointment only held). Each run re-reads the pending
rows, then reads new rows in batches (BATCH rows, at most MAX_BATCHES per run). A settled row
is metered (or known never billable) and forgotten; a row still pending after HORIZON is
given up. Rows younger than LAG are left for the next run: a transaction that took a lower
id may not have committed yet. Records are idempotent by source id ("call:12"), so a run
that repeats work (a crash before the cursor moved) counts nothing twice.

SMS: the SMS table belongs to channels_sms, an edge app above billing. The SMS sent for the
domain apps are known by their ids where those apps keep them: forwards by SMS (desk) and
SMS appointment reminders (agenda) give "sms:<sms id>". SMS sent elsewhere (agenda booking
notices, which keep no id) are not metered.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction

from permanence.agenda import selectors as agenda_selectors
from permanence.core import clock
from permanence.desk import selectors as desk_selectors
from permanence.inbox import selectors as inbox_selectors

from .models_usage import MeteringCursor, Metric
from .usage import usage_bulk_record
from .usage_alerts import usage_alerts_check

logger = logging.getLogger(__name__)

BATCH = 500
MAX_BATCHES = 20
LAG = timedelta(minutes=2)
HORIZON = timedelta(days=2)
MAX_PENDING = 5000

Row = dict[str, Any]
Usage = dict[str, Any]


@dataclass(frozen=True)
class Source:
    name: str
    read: Callable[..., list[Row]]
    settled: Callable[[Row], bool]
    usage: Callable[[Row], list[Usage]]
    # When the row was made (for LAG) and the moment after which, if still pending, it is
    # given up (HORIZON after it).
    created: Callable[[Row], datetime | None]


def _usage(account_id: Any, source_id: str, metric: str, quantity: Decimal,
           occurred_at: datetime | None) -> Usage:
    return {"account_id": account_id, "source_id": source_id, "metric": metric,
            "quantity": quantity, "occurred_at": occurred_at}


def minutes_of(seconds: int | None) -> Decimal:
    """Talk time in minutes, rounded up to the tenth (61 s → 1.1)."""
    if not seconds or seconds <= 0:
        return Decimal(0)
    return Decimal(math.ceil(seconds / 6)) / 10


# --- Calls answered (desk) --------------------------------------------------------------------

def _call_usage(row: Row) -> list[Usage]:
    if row["account_id"] is None or row["outcome"] != "answered":
        return []
    at = row["answered_at"] or row["offered_at"]
    out = [_usage(row["account_id"], f"call:{row['id']}", Metric.CALLS, Decimal(1), at)]
    minutes = minutes_of(row["talk_seconds"])
    if minutes > 0:
        out.append(_usage(row["account_id"], f"call:{row['id']}:minutes",
                          Metric.CALL_MINUTES, minutes, at))
    return out


# --- Messages forwarded to the client (desk), and their SMS -------------------------------------

FORWARD_DONE = ("sent", "delivered", "read")


def _forward_usage(row: Row) -> list[Usage]:
    if row["status"] not in FORWARD_DONE:
        return []
    at = row["sent_at"] or row["created_at"]
    out = [_usage(row["account_id"], f"forward:{row['id']}", Metric.MESSAGES, Decimal(1), at)]
    if row["channel"] == "sms" and row["sms_id"]:
        out.append(_usage(row["account_id"], f"sms:{row['sms_id']}", Metric.SMS, Decimal(1), at))
    return out


# --- Appointments booked (agenda) ---------------------------------------------------------------

APPOINTMENT_BOOKED = ("confirmed", "honoured", "no_show")


def _appointment_usage(row: Row) -> list[Usage]:
    if row["status"] not in APPOINTMENT_BOOKED:
        return []
    return [_usage(row["account_id"], f"appointment:{row['id']}", Metric.APPOINTMENTS,
                   Decimal(1), row["created_at"])]


# --- SMS reminders of appointments (agenda) -------------------------------------------------------

SMS_SENT = ("sent", "delivered")


def _reminder_usage(row: Row) -> list[Usage]:
    if row["status"] not in SMS_SENT or not row["sms_id"]:
        return []
    return [_usage(row["appointment__account_id"], f"sms:{row['sms_id']}", Metric.SMS,
                   Decimal(1), row["sent_at"] or row["due_at"])]


# --- E-mail replies and chats answered by agents (inbox) -------------------------------------

def _reply_usage(row: Row) -> list[Usage]:
    """An e-mail reply counts once per reply; a chat once per conversation, at its first
    answer by a person (the bot's answers have no author: not billed)."""
    if row["auto_generated"] or row["conversation__account_id"] is None:
        return []
    if row["channel"] == "chat":
        return [_usage(row["conversation__account_id"], f"chat:{row['conversation_id']}",
                       Metric.CHATS, Decimal(1), row["created_at"])]
    if row["channel"] != "email":
        return []
    return [_usage(row["conversation__account_id"], f"reply:{row['id']}", Metric.EMAILS,
                   Decimal(1), row["created_at"])]


SOURCES = (
    Source("calls", desk_selectors.calls_for_metering,
           settled=lambda r: r["ended_at"] is not None, usage=_call_usage,
           created=lambda r: r["created_at"]),
    Source("forwards", desk_selectors.forwards_for_metering,
           settled=lambda r: r["status"] != "queued", usage=_forward_usage,
           created=lambda r: r["created_at"]),
    Source("appointments", agenda_selectors.appointments_for_metering,
           settled=lambda r: r["status"] != "held", usage=_appointment_usage,
           created=lambda r: r["created_at"]),
    Source("sms_reminders", agenda_selectors.sms_reminders_for_metering,
           settled=lambda r: r["status"] not in ("pending", "sending", "queued"),
           usage=_reminder_usage, created=lambda r: r["due_at"]),
    Source("replies", inbox_selectors.replies_for_metering,
           settled=lambda r: True, usage=_reply_usage, created=lambda r: r["created_at"]),
)


def _record(rows: Iterable[Row], source: Source, accounts: set[int]) -> int:
    usages = [u for row in rows for u in source.usage(row)]
    for u in usages:
        accounts.add(u["account_id"])
    return usage_bulk_record(usages)


def _meter_source(source: Source, now: datetime, accounts: set[int]) -> int:
    """One source: pending rows re-read, then new rows; the cursor moved. Returns the number
    of usage records created."""
    with transaction.atomic():
        cursor, _created = MeteringCursor.objects.select_for_update().get_or_create(
            source=source.name, defaults={"updated_at": now})
        created = 0
        still: list[int] = []
        pending = [int(i) for i in cursor.pending]
        for start in range(0, len(pending), BATCH):
            ids = pending[start:start + BATCH]
            rows = source.read(ids=ids, limit=len(ids))
            created += _record([r for r in rows if source.settled(r)], source, accounts)
            still += [r["id"] for r in rows
                      if not source.settled(r) and not _given_up(source, r, now)]
        last_id = cursor.last_id
        for _batch in range(MAX_BATCHES):
            rows = source.read(after_id=last_id, limit=BATCH)
            ready = []
            for row in rows:
                made = source.created(row)
                if source.name != "sms_reminders" and made is not None and made > now - LAG:
                    break  # too young: an older id may not be committed yet
                ready.append(row)
            created += _record([r for r in ready if source.settled(r)], source, accounts)
            still += [r["id"] for r in ready if not source.settled(r)]
            if ready:
                last_id = ready[-1]["id"]
            if len(ready) < BATCH:
                break
        if len(still) > MAX_PENDING:
            logger.warning("metering %s: %d rows pending, the oldest given up", source.name,
                           len(still) - MAX_PENDING)
            still = still[-MAX_PENDING:]
        cursor.last_id, cursor.pending, cursor.updated_at = last_id, still, now
        cursor.save(update_fields=["last_id", "pending", "updated_at"])
    return created


def _given_up(source: Source, row: Row, now: datetime) -> bool:
    made = source.created(row)
    return made is not None and made < now - HORIZON


def _backfill(source: Source, since: datetime, accounts: set[int]) -> int:
    """Every row again (cursors untouched), metering those settled and made since `since`."""
    created, last_id = 0, 0
    while True:
        rows = source.read(after_id=last_id, limit=BATCH)
        if not rows:
            return created
        last_id = rows[-1]["id"]
        with transaction.atomic():
            created += _record([r for r in rows if source.settled(r)
                                and (source.created(r) or since) >= since], source, accounts)


def meter(since: datetime | None = None) -> dict[str, int]:
    """Record usage for the work not metered yet; {source: records created, "alerts": n}.
    `since`: re-read everything made since then (a backfill; the cursors do not move)."""
    now = clock.now()
    accounts: set[int] = set()
    result: dict[str, int] = {}
    for source in SOURCES:
        result[source.name] = (_backfill(source, since, accounts) if since is not None
                               else _meter_source(source, now, accounts))
    result["alerts"] = sum(usage_alerts_check(account_id=a) for a in sorted(accounts))
    return result
