"""Scheduled exports: a report e-mailed to its owner every Monday (the week just ended) or on
the 1st (the month just ended), from 06:00 Paris time.

The scheduler's hourly job claims each due export with a conditional update (one sender even
with two schedulers), and a task builds the file with the owner's rights of the moment and
sends it — outside any transaction —, then records that it left. A claim whose e-mail did
not leave within CLAIM_TIMEOUT (SMTP down) is claimed again by a later run: the page says
« envoyé » only once it was."""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from typing import Any

from django.core.mail import EmailMessage
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext as _

from permanence.accounts.models import User
from permanence.accounts.selectors import accounts_visible_to
from permanence.core import background, clock
from permanence.core.errors import NotFound, invalid
from permanence.core.exports import csv_chunks, xlsx_file
from permanence.inbox.models import Channel

from . import drill, exports, kpis
from .models import ExportFormat, ExportFrequency, ScheduledExport

logger = logging.getLogger(__name__)
SEND_TASK = "reports.send_scheduled_export"
SEND_FROM = time(6, 0)
CLAIM_TIMEOUT = timedelta(hours=1)
MAX_PER_USER = 20


def period_for(frequency: str, day: date) -> tuple[date, date]:
    """The period an export sent on `day` covers: the previous week (Monday–Sunday) or the
    previous month."""
    if frequency == ExportFrequency.WEEKLY:
        monday = day - timedelta(days=day.weekday())
        return monday - timedelta(days=7), monday - timedelta(days=1)
    last = day.replace(day=1) - timedelta(days=1)
    return last.replace(day=1), last


def sending_day(now: datetime) -> date:
    """The local day whose period is due: before 06:00, still the day before."""
    return (now.astimezone(kpis.PARIS) - timedelta(hours=SEND_FROM.hour,
                                                   minutes=SEND_FROM.minute)).date()


def scheduled_export_create(*, actor: User, what: str, which: str, account_id: int | None,
                            channel: str, frequency: str, fmt: str) -> ScheduledExport:
    if what and (what not in drill.KINDS or which not in drill.KINDS[what]):
        raise invalid(what=_("Contenu inconnu."))
    if not what and which:
        raise invalid(what=_("Contenu inconnu."))
    if frequency not in ExportFrequency.values:
        raise invalid(frequency=_("Fréquence inconnue."))
    if fmt not in ExportFormat.values:
        raise invalid(fmt=_("Format inconnu."))
    if channel and channel not in Channel.values:
        raise invalid(channel=_("Canal inconnu."))
    if account_id is not None and not accounts_visible_to(actor).filter(
            pk=account_id, is_operator=False).exists():
        raise invalid(account=_("Compte client introuvable."))
    if ScheduledExport.objects.filter(owner=actor).count() >= MAX_PER_USER:
        raise invalid(what=_("%(n)d envois programmés au plus.") % {"n": MAX_PER_USER})
    return ScheduledExport.objects.create(
        owner=actor, what=what, which=which, account_id=account_id, channel=channel,
        frequency=frequency, fmt=fmt, created_at=clock.now())


def scheduled_export_delete(*, actor: User, pk: int) -> None:
    deleted, _rows = ScheduledExport.objects.filter(pk=pk, owner=actor).delete()
    if not deleted:  # someone else's: as if it did not exist
        raise NotFound()


def exports_due() -> int:
    """The scheduler's job: claim each export whose period is due and not sent, and wake the
    task that sends it; returns how many were claimed."""
    now = clock.now()
    day = sending_day(now)
    claimed = 0
    for export in ScheduledExport.objects.filter(owner__is_active=True).only(
            "pk", "frequency", "sent_period", "created_at"):
        start, end = period_for(export.frequency, day)
        # The first e-mail covers the first period ending after the export was asked for.
        if export.sent_period == start or end < export.created_at.astimezone(kpis.PARIS).date():
            continue
        took = (ScheduledExport.objects.filter(pk=export.pk)
                .filter(~Q(claimed_period=start) | Q(claimed_at__lt=now - CLAIM_TIMEOUT))
                .update(claimed_period=start, claimed_at=now))
        if took:
            claimed += 1
            background.enqueue(SEND_TASK, export.pk, start.isoformat(), end.isoformat())
    return claimed


def _file(export: ScheduledExport, filters: kpis.Filters) -> tuple[str, bytes, str]:
    owner = export.owner
    if export.what:
        table, rows = drill.table(owner, filters, export.what, export.which)
    else:
        table, rows = exports.indicators_table(owner, filters)
    name = f"{table.name}-{filters.start_day.isoformat()}-{filters.end_day.isoformat()}"
    if export.fmt == ExportFormat.CSV:
        return f"{name}.csv", b"".join(csv_chunks(table, rows)), "text/csv"
    with xlsx_file(table, rows, title=table.name) as handle:
        return (f"{name}.xlsx", handle.read(),
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def title(export: ScheduledExport) -> str:
    return drill.title(export.what, export.which) if export.what else _("Indicateurs")


def export_send(pk: int, start: date, end: date) -> str:
    """Build and e-mail one export for [start, end]; no transaction is open while sending."""
    export = (ScheduledExport.objects.select_related("owner", "account").filter(pk=pk)
              .first())
    if export is None or not export.owner.is_active:
        return "gone"
    if export.sent_period == start:
        return "already sent"
    owner = export.owner
    try:
        filters = kpis.filters_for(owner, start_day=start, end_day=end,
                                   account_id=export.account_id, channel=export.channel)
    except kpis.PeriodError:  # the account is no longer the owner's to read
        logger.info("scheduled export %s skipped: account no longer visible", pk)
        return "skipped"
    with translation.override(getattr(owner, "language", "") or "fr"):
        filename, data, mimetype = _file(export, filters)
        what = title(export)
        subject = _("%(what)s du %(start)s au %(end)s") % {
            "what": what, "start": start.strftime("%d/%m/%Y"), "end": end.strftime("%d/%m/%Y")}
        body = _("Bonjour,\n\nVoici votre envoi programmé « %(what)s »%(account)s, du %(start)s "
                 "au %(end)s, en pièce jointe.\n\nPour le modifier ou l'arrêter : Rapports → "
                 "Envois programmés.\n") % {
            "what": what, "start": start.strftime("%d/%m/%Y"), "end": end.strftime("%d/%m/%Y"),
            "account": f" — {export.account.name}" if export.account else ""}
    message = EmailMessage(subject, body, to=[owner.email])
    message.attach(filename, data, mimetype)
    message.send()
    ScheduledExport.objects.filter(pk=pk).update(sent_period=start, sent_at=clock.now())
    return "sent"


def scheduled_of(user: User) -> list[ScheduledExport]:
    return list(ScheduledExport.objects.filter(owner=user).select_related("account"))


def describe(export: ScheduledExport) -> dict[str, Any]:
    """What the list shows: the content, the filters, and the last e-mail that really left."""
    return {"export": export, "title": title(export),
            "channel": dict(Channel.choices).get(export.channel, "") if export.channel else "",
            "pending": export.claimed_period is not None
            and export.claimed_period != export.sent_period}
