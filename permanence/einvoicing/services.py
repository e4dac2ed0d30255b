"""Transmission of issued invoices to the *plateforme agréée*, and the statuses it reports.

The order of things, so that a crash at any point loses nothing and deposits nothing twice:

1. `transmissions_open()`: each issued invoice of a French business buyer (a SIREN) whose
   Factur-X PDF is stored gets one Transmission row, "à déposer" (sales to consumers are not
   e-invoiced: they go to the e-reporting).
2. `transmission_send(pk)`: claim the row — "dépôt en cours", attempt counted, committed:
   the journal — then, with no transaction open, ask the platform; record the outcome in a
   second transaction. An attempt after one whose outcome is unknown (a crash, a lost answer:
   `attempts > 1`) first searches the platform for the tracking id and adopts the flow found.
3. `transmission_poll(pk)`: read the flow's lifecycle (outside any transaction), then record
   the new statuses once each, the latest onto the invoice through billing's service.
4. `transmissions_report_payments()`: a deposited invoice that billing shows paid gets the
   seller's status « 212 Encaissée » (a CDAR flow: VAT on services is due on receipt).

Retrying: a transient failure (network, 5xx) goes back to "à déposer" with a back-off; a
permanent one (4xx) or the last attempt is "échec", shown to billing staff, who may
« Retransmettre » (as may they after a rejection: a new deposit, with a new tracking id)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef
from django.utils.translation import gettext as _

from permanence.accounts.models import User
from permanence.audit.actions import Action
from permanence.audit.services import audit_record
from permanence.billing import platform as billing_platform
from permanence.billing.models_invoices import DocumentKind, Invoice, InvoiceStatus
from permanence.billing.platform import PlatformStatus
from permanence.core import background, clock
from permanence.core.errors import DomainError
from permanence.core.transitions import Machine, apply

from . import cdar
from .client import Deposit, Document, LifecycleStatus, Platform, PlatformError, platform
from .models import (
    TRANSMISSION_TRANSITIONS,
    StatusEvent,
    Transmission,
    TransmissionStatus,
    TransmissionStatusChange,
)

TRANSMISSION_MACHINE: Machine[Transmission] = Machine(
    model=Transmission, transitions=TRANSMISSION_TRANSITIONS,
    history_model=TransmissionStatusChange, history_fk="transmission",
    status_choices=TransmissionStatus, ref_field="tracking_id")

SEND_TASK = "einvoicing.transmit_one"
MAX_ATTEMPTS = 8
# A claim older than this is taken as a crashed attempt (well above the HTTP time-out).
STALE_AFTER = timedelta(minutes=10)
BATCH = 200
# A deposited flow is polled for this long at most (an approved invoice never paid).
POLL_FOR = timedelta(days=180)
# Lifecycle statuses after which nothing more is expected from the platform.
FINAL_CODES = frozenset({PlatformStatus.REFUSED, PlatformStatus.CASHED})


def _no_transaction(what: str) -> None:
    if transaction.get_connection().in_atomic_block:
        raise RuntimeError(f"{what} calls the e-invoicing platform: never inside a transaction")


def _retry_delay(attempt: int) -> timedelta:
    """1, 2, 4… minutes, at most 6 hours."""
    return min(timedelta(minutes=2 ** max(attempt - 1, 0)), timedelta(hours=6))


def _start_date() -> date | None:
    value = str(getattr(settings, "EINVOICING_FROM", "") or "")
    return date.fromisoformat(value) if value else None


# --- 1. Open ------------------------------------------------------------------------------------


def transmissions_open(*, limit: int = BATCH) -> int:
    """One Transmission per issued B2B invoice (buyer with a SIREN) whose PDF is stored and
    that has none yet; the invoice shows "en attente de transmission". How many opened."""
    now = clock.now()
    candidates = list(
        billing_platform.invoices_with_document(issued_from=_start_date())
        .filter(buyer__has_key="siren").exclude(buyer__siren="")
        .filter(~Exists(Transmission.objects.filter(invoice_id=OuterRef("pk"))))
        .values_list("pk", "number")[:limit])
    opened = 0
    for invoice_id, number in candidates:
        try:
            with transaction.atomic():
                Transmission.objects.create(
                    invoice_id=invoice_id, tracking_id=number,
                    syntax=str(getattr(settings, "EINVOICING_SYNTAX", "Factur-X")),
                    next_attempt_at=now, created_at=now, updated_at=now)
                billing_platform.invoice_platform_status_set(
                    invoice_id=invoice_id, status=PlatformStatus.PENDING, at=now)
        except IntegrityError:  # another scheduler opened it first
            continue
        opened += 1
    return opened


# --- 2. Send ------------------------------------------------------------------------------------


@transaction.atomic
def _claim(transmission_id: int) -> Transmission | None:
    """The journal: the attempt is counted and committed before any network call. A row
    "dépôt en cours" for longer than STALE_AFTER is an attempt that crashed: claimed again."""
    now = clock.now()
    row = Transmission.objects.select_for_update().filter(pk=transmission_id).first()
    if row is None:
        return None
    if row.status == TransmissionStatus.PENDING and row.next_attempt_at <= now:
        apply(TRANSMISSION_MACHINE, row, to=TransmissionStatus.SENDING, now=now,
              note=_("tentative %(n)s") % {"n": row.attempts + 1})
    elif not (row.status == TransmissionStatus.SENDING and row.sending_since is not None
              and row.sending_since <= now - STALE_AFTER):
        return None
    row.attempts += 1
    row.sending_since = now
    row.updated_at = now
    row.save(update_fields=["status", "attempts", "sending_since", "updated_at"])
    return row


def document_for(transmission: Transmission, invoice: Invoice) -> Document:
    """What is deposited: the Factur-X PDF/A-3 (the XML embedded), or the CII XML alone."""
    if transmission.syntax == "CII":
        return Document(tracking_id=transmission.tracking_id, name=f"{invoice.number}.xml",
                        syntax="CII", content=invoice.facturx_xml.encode("utf-8"),
                        content_type="application/xml")
    return Document(tracking_id=transmission.tracking_id, name=f"{invoice.number}.pdf",
                    syntax="Factur-X", content=billing_platform.invoice_pdf_bytes(invoice),
                    content_type="application/pdf")


def transmission_send(transmission_id: int, *, client: Platform | None = None) -> str:
    """Deposit one invoice (if due): "deposited", "retry", "failed" or "skipped"."""
    _no_transaction("transmission_send")
    row = _claim(transmission_id)
    if row is None:
        return "skipped"
    client = client or platform()
    try:
        # An earlier attempt may have reached the platform (crash, lost answer): look first.
        found = client.find(row.tracking_id) if row.attempts > 1 else None
        if found is None:
            invoice = billing_platform.invoice_by_id(row.invoice_id)
            try:
                found = client.deposit(document_for(row, invoice))
            except PlatformError as exc:
                if not exc.duplicate:
                    raise
                found = client.find(row.tracking_id)  # deposited meanwhile: adopt it
                if found is None:
                    raise
    except PlatformError as exc:
        return _record_failure(row.pk, str(exc), permanent=exc.permanent)
    _record_deposit(row.pk, found)
    return "deposited"


@transaction.atomic
def _record_deposit(transmission_id: int, deposit: Deposit) -> Transmission:
    now = clock.now()
    row = Transmission.objects.select_for_update().get(pk=transmission_id)
    apply(TRANSMISSION_MACHINE, row, to=TransmissionStatus.DEPOSITED, now=now,
          note=deposit.flow_id[:300])
    row.flow_id = deposit.flow_id
    row.deposited_at = deposit.submitted_at
    row.last_error = ""
    row.sending_since = None
    row.updated_at = now
    row.save()
    _record_events(row, [LifecycleStatus(code=PlatformStatus.DEPOSITED,
                                         at=deposit.submitted_at)], now=now)
    return row


@transaction.atomic
def _record_failure(transmission_id: int, error: str, *, permanent: bool) -> str:
    now = clock.now()
    row = Transmission.objects.select_for_update().get(pk=transmission_id)
    give_up = permanent or row.attempts >= MAX_ATTEMPTS
    target = TransmissionStatus.FAILED if give_up else TransmissionStatus.PENDING
    apply(TRANSMISSION_MACHINE, row, to=target, now=now, note=error[:300])
    row.last_error = error[:500]
    row.sending_since = None
    row.next_attempt_at = now + _retry_delay(row.attempts)
    row.updated_at = now
    row.save()
    if give_up:
        billing_platform.invoice_platform_status_set(
            invoice_id=row.invoice_id, status=PlatformStatus.FAILED, at=now)
    return "failed" if give_up else "retry"


def transmissions_send_due(*, client: Platform | None = None, limit: int = BATCH) -> dict[str, int]:
    """Open what is new, then deposit what is due (and re-claim crashed attempts)."""
    _no_transaction("transmissions_send_due")
    outcome = {"opened": transmissions_open(limit=limit)}
    now = clock.now()
    due = list(Transmission.objects.filter(
        status=TransmissionStatus.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:limit])
    due += list(Transmission.objects.filter(
        status=TransmissionStatus.SENDING, sending_since__lte=now - STALE_AFTER)
        .order_by("pk").values_list("pk", flat=True)[:limit])
    client = client or platform()
    for pk in due:
        result = transmission_send(pk, client=client)
        outcome[result] = outcome.get(result, 0) + 1
    return outcome


# --- 3. Statuses --------------------------------------------------------------------------------


def _record_events(row: Transmission, statuses: Iterable[LifecycleStatus], *,
                   now: datetime) -> int:
    """Store the statuses not stored yet; the latest becomes the transmission's and the
    invoice's. In the caller's transaction, on the locked row."""
    known = set(StatusEvent.objects.filter(tracking_id=row.tracking_id)
                .values_list("code", "at"))
    new = [s for s in statuses if PlatformStatus.is_cdv(s.code) and (s.code, s.at) not in known]
    StatusEvent.objects.bulk_create(
        [StatusEvent(transmission=row, tracking_id=row.tracking_id, code=s.code, at=s.at,
                     reason=s.reason[:500], received_at=now) for s in new],
        ignore_conflicts=True)
    if not new:
        return 0
    latest = max(StatusEvent.objects.filter(tracking_id=row.tracking_id),
                 key=lambda e: (e.at, int(e.code)))
    row.lifecycle_code = latest.code
    if any(s.code == PlatformStatus.REJECTED for s in new) and \
            row.status == TransmissionStatus.DEPOSITED:
        rejection = next(s for s in new if s.code == PlatformStatus.REJECTED)
        apply(TRANSMISSION_MACHINE, row, to=TransmissionStatus.REJECTED, now=now,
              note=rejection.reason[:300])
        row.last_error = rejection.reason[:500] or _("Rejetée par la plateforme.")
    elif latest.code in FINAL_CODES and row.status == TransmissionStatus.DEPOSITED:
        apply(TRANSMISSION_MACHINE, row, to=TransmissionStatus.CLOSED, now=now)
    row.updated_at = now
    row.save()
    billing_platform.invoice_platform_status_set(
        invoice_id=row.invoice_id, status=latest.code, at=latest.at)
    return len(new)


@transaction.atomic
def transmission_record_statuses(*, transmission_id: int,
                                 statuses: list[LifecycleStatus]) -> int:
    """Record what the platform reported (polling, or a webhook's content): each status once,
    whatever the order it comes in. How many were new."""
    now = clock.now()
    row = Transmission.objects.select_for_update().get(pk=transmission_id)
    row.polled_at = now
    count = _record_events(row, statuses, now=now)
    row.save(update_fields=["polled_at"])
    return count


def transmission_poll(transmission_id: int, *, client: Platform | None = None) -> int:
    """Read one deposited flow's statuses from the platform and record the new ones."""
    _no_transaction("transmission_poll")
    row = Transmission.objects.get(pk=transmission_id)
    if row.status != TransmissionStatus.DEPOSITED or not row.flow_id:
        return 0
    try:
        statuses = (client or platform()).statuses(row.flow_id)
    except PlatformError as exc:
        Transmission.objects.filter(pk=row.pk).update(last_error=str(exc)[:500])
        return 0
    return transmission_record_statuses(transmission_id=row.pk, statuses=statuses)


def transmissions_poll_due(*, client: Platform | None = None, limit: int = BATCH) -> int:
    """Every deposited flow not final yet (deposited less than POLL_FOR ago), least
    recently polled first."""
    _no_transaction("transmissions_poll_due")
    client = client or platform()
    since = clock.now() - POLL_FOR
    pks = list(Transmission.objects.filter(status=TransmissionStatus.DEPOSITED,
                                           deposited_at__gte=since)
               .order_by(F("polled_at").asc(nulls_first=True), "pk")
               .values_list("pk", flat=True)[:limit])
    return sum(transmission_poll(pk, client=client) for pk in pks)


# --- 4. Payments (212 Encaissée) ---------------------------------------------------------------


def transmissions_report_payments(*, client: Platform | None = None,
                                  limit: int = BATCH) -> int:
    """For services the VAT is due on receipt: each deposited B2B invoice that billing shows
    paid gets the seller's « 212 Encaissée » (a CDAR flow, tracking id "<tracking>-212").
    The platform is searched before each deposit, so a crash in between sends it once."""
    _no_transaction("transmissions_report_payments")
    client = client or platform()
    rows = list(Transmission.objects.filter(
        status=TransmissionStatus.DEPOSITED, payment_reported_at__isnull=True,
        invoice__status=InvoiceStatus.PAID, invoice__kind=DocumentKind.INVOICE)
        .select_related("invoice").order_by("pk")[:limit])
    reported = 0
    for row in rows:
        tracking = f"{row.tracking_id}-{PlatformStatus.CASHED}"
        now = clock.now()
        try:
            found = client.find(tracking) or client.deposit(Document(
                tracking_id=tracking, name=f"{tracking}.xml", syntax="CDAR",
                content=cdar.cashed_message(row.invoice, at=now, message_id=tracking),
                content_type="application/xml"))
        except PlatformError as exc:
            Transmission.objects.filter(pk=row.pk).update(last_error=str(exc)[:500])
            continue
        _record_payment_reported(row.pk, found, now=now)
        reported += 1
    return reported


@transaction.atomic
def _record_payment_reported(transmission_id: int, deposit: Deposit, *, now: datetime) -> None:
    row = Transmission.objects.select_for_update().select_related("invoice").get(
        pk=transmission_id)
    if row.payment_reported_at is not None:
        return
    row.payment_flow_id = deposit.flow_id
    row.payment_reported_at = now
    row.last_error = ""
    amount = row.invoice.paid_cents
    _record_events(row, [LifecycleStatus(
        code=PlatformStatus.CASHED, at=now,
        reason=_("Encaissée : %(amount)s €") % {"amount": f"{amount / 100:.2f}".replace(".", ",")})],
        now=now)
    row.save()


# --- Staff ----------------------------------------------------------------------------------------


@transaction.atomic
def transmission_retransmit(*, actor: User, invoice_number: str) -> Transmission:
    """« Retransmettre »: a failed deposit is tried again (same tracking id: the platform is
    searched first); a rejected one is deposited anew, under a new tracking id."""
    row = (Transmission.objects.select_for_update().select_related("invoice")
           .filter(invoice__number=invoice_number).first())
    if row is None or row.status not in (TransmissionStatus.FAILED,
                                         TransmissionStatus.REJECTED):
        raise DomainError("not_retransmittable", _(
            "Seule une transmission en échec ou rejetée peut être retransmise."), status=409)
    now = clock.now()
    was = row.status
    apply(TRANSMISSION_MACHINE, row, to=TransmissionStatus.PENDING, actor=actor, now=now,
          note=_("Retransmise par %(who)s") % {"who": actor.full_name or actor.email})
    if was == TransmissionStatus.REJECTED:
        row.generation += 1
        row.tracking_id = f"{row.invoice.number}-{row.generation}"
        row.flow_id = ""
        row.lifecycle_code = ""
        row.attempts = 0
        row.deposited_at = None
    else:
        # The same deposit again: the next attempt searches the platform first (attempts
        # > 1) and gets the full run of retries.
        row.attempts = 1
    row.last_error = ""
    row.next_attempt_at = now
    row.updated_at = now
    row.save()
    billing_platform.invoice_platform_status_set(
        invoice_id=row.invoice_id, status=PlatformStatus.PENDING, at=now)
    audit_record(actor=actor, action=Action.UPDATE, target=row.invoice,
                 account=row.invoice.account,
                 changes={"platform_transmission": "retransmit", "tracking_id": row.tracking_id})
    background.enqueue_on_commit(SEND_TASK, row.pk)
    return row
