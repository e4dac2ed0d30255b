"""Data subjects' requests: their one state machine, the services that create and execute
them (export, erasure, objection, rectification, refusal) and the reads of their pages.
Every request created and every execution goes to the audit log."""

from __future__ import annotations

import calendar
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from permanence.accounts.models import ClientAccount, Membership, MembershipRole, User
from permanence.audit.actions import Action
from permanence.audit.services import audit_record
from permanence.channels_sms.services import opt_out
from permanence.core import background, clock
from permanence.core.errors import DomainError, NotFound
from permanence.core.transitions import Machine, transition
from permanence.desk.campaigns import campaign_targets_withdraw
from permanence.inbox.models import Contact

from . import erasure, exports
from .models_requests import (
    OPEN_STATUSES,
    REQUEST_TRANSITIONS,
    ExportStatus,
    RequestKind,
    RequestStatus,
    RequestTarget,
    SubjectExport,
    SubjectRequest,
    SubjectRequestStatusChange,
)
from .scope import scope_of

BUILD_TASK = "privacy.build_export"
OBJECTION_KEYWORD = "RGPD"

REQUEST_MACHINE: Machine[SubjectRequest] = Machine(
    model=SubjectRequest, transitions=REQUEST_TRANSITIONS,
    history_model=SubjectRequestStatusChange, history_fk="request",
    status_choices=RequestStatus)


def one_month_after(moment: datetime) -> datetime:
    """RGPD art. 12(3): one month, the same day of the next month, or its last day when the
    next month is shorter (31 January → 28 or 29 February), in local time."""
    local = timezone.localtime(moment)
    year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
    day = min(local.day, calendar.monthrange(year, month)[1])
    return local.replace(year=year, month=month, day=day)


# --- The state machine --------------------------------------------------------------------

def _stamp(obj: SubjectRequest, _from: str, to: str, actor: User | None, at: datetime) -> None:
    if actor is not None and obj.handled_by_id is None:
        obj.handled_by = actor
    if to == RequestStatus.DONE:
        obj.executed_at = at


def request_transition(*, request: SubjectRequest | int, to: str, actor: User | None,
                       note: str = "", refusal_reason: str = "",
                       result: dict[str, Any] | None = None) -> SubjectRequest:
    """The one way a request's status changes: locked, checked against the table, stamped
    (handled by, executed at), its history and the audit log written."""
    if to == RequestStatus.REFUSED and not refusal_reason.strip():
        raise DomainError("reason_required", _("Indiquez le motif du refus."), status=400)

    def stamp(obj: SubjectRequest, previous: str, new: str, who: User | None,
              at: datetime) -> None:
        _stamp(obj, previous, new, who, at)
        if new == RequestStatus.REFUSED:
            obj.refusal_reason = refusal_reason.strip()
        if result is not None:
            obj.result = result

    with transaction.atomic():
        moved = transition(REQUEST_MACHINE, instance=request, to=to, actor=actor,
                           note=note or refusal_reason, stamp=stamp)
        obj = moved.instance
        if moved.previous != to:
            action = _execution_action(obj) if to == RequestStatus.DONE else Action.UPDATE
            audit_record(actor=actor, action=action, target=obj, account=obj.account,
                         changes={"status": [moved.previous, to],
                                  **({"result": result} if result else {})})
    return obj


def _execution_action(request: SubjectRequest) -> str:
    if request.kind in {RequestKind.ACCESS, RequestKind.PORTABILITY}:
        return Action.EXPORT
    if request.kind == RequestKind.ERASURE:
        return Action.DELETE
    return Action.UPDATE


# --- Creation -----------------------------------------------------------------------------

def request_create(*, actor: User, kind: str, target: str, contact: Contact | None = None,
                   account: ClientAccount | None = None, description: str = "",
                   email: str = "", received_at: datetime | None = None,
                   note: str = "") -> SubjectRequest:
    if kind not in RequestKind.values or target not in RequestTarget.values:
        raise DomainError("invalid", _("Nature ou personne inconnue."), status=400)
    if target == RequestTarget.CONTACT and contact is None:
        raise DomainError("contact_required", _("Choisissez le contact."), status=400)
    if target == RequestTarget.ACCOUNT and account is None:
        raise DomainError("account_required", _("Choisissez le compte client."), status=400)
    if target == RequestTarget.PERSON and not email.strip():
        raise DomainError("email_required", _("Indiquez l'e-mail de la personne."),
                          status=400)
    now = clock.now()
    received = received_at or now
    if contact is not None:
        account = contact.account
    with transaction.atomic():
        request = SubjectRequest.objects.create(
            kind=kind, target=target, contact=contact, account=account,
            requester_description=description.strip(), requester_email=email.strip(),
            received_at=received, due_at=one_month_after(received), note=note.strip(),
            created_by=actor, created_at=now)
        audit_record(actor=actor, action=Action.CREATE, target=request, account=account,
                     changes={"kind": kind, "target": target,
                              "due_at": request.due_at.isoformat()})
    return request


def _open(request: SubjectRequest) -> None:
    if request.status not in OPEN_STATUSES:
        raise DomainError("closed", _("Cette demande est déjà close."), status=409)


def _expect_kind(request: SubjectRequest, *kinds: str) -> None:
    if request.kind not in kinds:
        raise DomainError("wrong_kind", _("Cette action ne correspond pas à la nature de la "
                                          "demande."), status=409)


# --- Access and portability: the export ---------------------------------------------------

def request_export(*, request: SubjectRequest, actor: User | None) -> SubjectExport:
    """Start building the request's ZIP in the background (the worker; at once with the
    immediate backend of tests and try-outs); the request is in progress meanwhile."""
    _expect_kind(request, RequestKind.ACCESS, RequestKind.PORTABILITY)
    with transaction.atomic():
        locked = SubjectRequest.objects.select_for_update().get(pk=request.pk)
        _open(locked)
        if locked.exports.filter(status=ExportStatus.PENDING).exists():
            raise DomainError("pending", _("Un export est déjà en préparation."), status=409)
        export = SubjectExport.objects.create(
            request=locked, created_at=clock.now(),
            account=locked.account if locked.target == RequestTarget.ACCOUNT else None)
        request_transition(request=locked, to=RequestStatus.IN_PROGRESS, actor=actor)
        background.enqueue_on_commit(BUILD_TASK, export.pk)
    return export


def exports_expire(*, limit: int = 1000) -> int:
    """Daily: the exports built more than PRIVACY_EXPORT_KEEP_DAYS ago lose their ZIP (a copy
    of personal data in clear). Each is marked expired first, in its own short transaction,
    so no download is served meanwhile; its file is deleted after the commit."""
    cutoff = clock.now() - timedelta(days=settings.PRIVACY_EXPORT_KEEP_DAYS)
    due = list(SubjectExport.objects.filter(status=ExportStatus.READY, finished_at__lt=cutoff)
               .order_by("pk").values_list("pk", flat=True)[:limit])
    done = 0
    for pk in due:
        with transaction.atomic():
            locked = SubjectExport.objects.select_for_update().filter(
                pk=pk, status=ExportStatus.READY).first()
            if locked is None:
                continue
            locked.status = ExportStatus.EXPIRED
            locked.save(update_fields=["status"])
            audit_record(actor=None, actor_label="retention", action=Action.DELETE,
                         target=locked, account=locked.account,
                         changes={"file": locked.path, "expired": True})
        exports.absolute(locked).unlink(missing_ok=True)
        done += 1
    return done


def export_build(*, export_id: int) -> SubjectExport:
    """The worker's part: write the ZIP (no transaction open meanwhile), then record it and
    execute the request."""
    export = SubjectExport.objects.select_related("request", "request__contact").get(
        pk=export_id)
    if export.status != ExportStatus.PENDING:
        return export
    try:
        path, size, sha256, rows = exports.build(export)
    except Exception as exc:
        SubjectExport.objects.filter(pk=export.pk).update(
            status=ExportStatus.FAILED, error=f"{exc.__class__.__name__}: {exc}"[:2000],
            finished_at=clock.now())
        raise
    with transaction.atomic():
        locked = SubjectExport.objects.select_for_update().get(pk=export.pk)
        locked.status, locked.path, locked.size = ExportStatus.READY, path, size
        locked.sha256, locked.rows, locked.finished_at = sha256, rows, clock.now()
        locked.save(update_fields=["status", "path", "size", "sha256", "rows", "finished_at"])
        request = export.request
        if request.status in OPEN_STATUSES:
            request_transition(request=request.pk, to=RequestStatus.DONE,
                               actor=request.handled_by,
                               result={"export": locked.pk, "rows": rows, "sha256": sha256})
    return locked


def client_export_request(*, actor: User, account: ClientAccount) -> SubjectRequest:
    """Espace client: the titulaire asks for his account's data (reversibility)."""
    if not Membership.objects.filter(user=actor, account=account,
                                     role=MembershipRole.OWNER).exists():
        raise DomainError("forbidden", _("Seul le titulaire du compte peut demander l'export "
                                         "de ses données."), status=403)
    request = request_create(actor=actor, kind=RequestKind.PORTABILITY,
                             target=RequestTarget.ACCOUNT, account=account,
                             note=_("Demandée depuis l'espace client."))
    request_export(request=request, actor=None)
    return request


# --- Erasure ------------------------------------------------------------------------------

def erasure_preview(*, request: SubjectRequest) -> dict[str, int]:
    """The dry run: the rows each model would change (nothing written)."""
    _expect_kind(request, RequestKind.ERASURE)
    return erasure.erase(scope_of(request), request_id=request.pk,
                         today=timezone.localdate(), dry_run=True)


def request_erase(*, request: SubjectRequest, actor: User) -> SubjectRequest:
    """Anonymise the person everywhere (one transaction per batch, outside any other), then
    execute the request with the counts and what was kept by law."""
    _expect_kind(request, RequestKind.ERASURE)
    _open(request)
    scope = scope_of(request)
    counts = erasure.erase(scope, request_id=request.pk, today=timezone.localdate(),
                           dry_run=False)
    kept = [e.model for e in erasure.kept_entries(scope)]
    return request_transition(
        request=request.pk, to=RequestStatus.DONE, actor=actor,
        result={"erased": counts, "kept": kept,
                "notice": str(_("Les factures (billing.Invoice) et leurs PDF ne sont jamais "
                                "modifiés : obligation légale de conservation de 10 ans "
                                "(Code de commerce, art. L123-22)."))})


# --- Objection and rectification ----------------------------------------------------------

def request_object(*, request: SubjectRequest, actor: User) -> SubjectRequest:
    """The contact gets no more SMS from the account (the SMS opt-out list, as if he had
    sent STOP), is not called by its campaigns any more, and gets no satisfaction survey (the inbox asks privacy.objections before
    sending one); the executed request is the record of the objection."""
    _expect_kind(request, RequestKind.OBJECTION)
    _open(request)
    contact = request.contact
    result: dict[str, Any] = {"sms_opt_out": False, "surveys": True, "campaign_targets": 0}
    with transaction.atomic():
        if contact is not None and contact.phone:
            result["sms_opt_out"] = opt_out(account_id=contact.account_id,
                                            number=contact.phone, keyword=OBJECTION_KEYWORD)
            result["campaign_targets"] = campaign_targets_withdraw(
                account_id=contact.account_id, number=contact.phone)
        return request_transition(request=request.pk, to=RequestStatus.DONE, actor=actor,
                                  result=result)


def objected(contact_id: int | None) -> bool:
    """Whether the contact objected (an executed objection): no survey nor marketing."""
    return contact_id is not None and SubjectRequest.objects.filter(
        contact_id=contact_id, kind=RequestKind.OBJECTION,
        status=RequestStatus.DONE).exists()


def objected_numbers(account_id: int, numbers: set[str]) -> set[str]:
    """Those of `numbers` whose contact at this account objected: not called by campaigns."""
    return set(SubjectRequest.objects.filter(
        kind=RequestKind.OBJECTION, status=RequestStatus.DONE, contact__account_id=account_id,
        contact__phone__in=numbers).values_list("contact__phone", flat=True))


def request_rectify(*, request: SubjectRequest, actor: User, changes: str) -> SubjectRequest:
    """The change itself is made on the record's own page; the request keeps what was
    changed and when."""
    _expect_kind(request, RequestKind.RECTIFICATION)
    _open(request)
    if not changes.strip():
        raise DomainError("changes_required", _("Décrivez ce qui a été rectifié."),
                          status=400)
    return request_transition(request=request.pk, to=RequestStatus.DONE, actor=actor,
                              result={"changes": changes.strip()[:4000]})


def request_start(*, request: SubjectRequest, actor: User) -> SubjectRequest:
    return request_transition(request=request.pk, to=RequestStatus.IN_PROGRESS, actor=actor)


def request_refuse(*, request: SubjectRequest, actor: User, reason: str) -> SubjectRequest:
    return request_transition(request=request.pk, to=RequestStatus.REFUSED, actor=actor,
                              refusal_reason=reason)


# --- Reads --------------------------------------------------------------------------------

def requests_list() -> QuerySet[SubjectRequest]:
    return SubjectRequest.objects.select_related("contact", "account", "handled_by").order_by(
        "status", "due_at", "pk")


def is_late(request: SubjectRequest, now: datetime | None = None) -> bool:
    return request.status in OPEN_STATUSES and request.due_at < (now or clock.now())


def request_get(pk: int) -> SubjectRequest:
    request = SubjectRequest.objects.select_related("contact", "account", "handled_by").filter(
        pk=pk).first()
    if request is None:
        raise NotFound(_("Demande introuvable."))
    return request


def account_exports(account: ClientAccount) -> QuerySet[SubjectExport]:
    return SubjectExport.objects.filter(account=account).select_related("request")


def client_export_get(*, user: User, pk: int) -> SubjectExport:
    """An account export, for a titulaire of that account only (404 for anyone else)."""
    export = SubjectExport.objects.filter(
        pk=pk, status=ExportStatus.READY, account__isnull=False,
        account__memberships__user=user,
        account__memberships__role=MembershipRole.OWNER).first()
    if export is None:
        raise NotFound(_("Export introuvable."))
    return export


def export_get(pk: int) -> SubjectExport:
    export = SubjectExport.objects.filter(pk=pk, status=ExportStatus.READY).first()
    if export is None:
        raise NotFound(_("Export introuvable."))
    return export


def is_owner(user: User, account: ClientAccount) -> bool:
    return Membership.objects.filter(user=user, account=account,
                                     role=MembershipRole.OWNER).exists()
