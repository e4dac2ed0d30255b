"""Call backs (rappels): created for missed and abandoned calls and voicemails, tracked until
done, overdue ones highlighted (services and reads).

A call back is owed when an inbound call with a known dialled number (an account) and a
caller's number (not « anonymous ») ended missed, abandoned or in voicemail: one per call
(Callback.call is unique). Its due time is the consignes' `callback_minutes` (top level of the
version in force) or DESK_CALLBACK_MINUTES, in the account's business time (a call missed
at 19:00 is due the next morning); it goes to an available agent of the account with the
fewest call backs to make. If the call turns out answered after all (an « answered » event
arriving late), the call back still to do is cancelled."""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from permanence.accounts.models import User
from permanence.accounts.selectors import accounts_visible_to
from permanence.audit.actions import Action
from permanence.audit.services import audit_record
from permanence.calendars.services import spec_for_account_cached
from permanence.core import clock
from permanence.core.business_time import add_business_time
from permanence.core.errors import DomainError, Forbidden, NotFound

from .agents import agent_for_callback
from .models import Call, Callback, CallbackReason, CallbackStatus, CallOutcome, ConsigneVersion
from .permissions import can_take_calls

REASON_OF_OUTCOME = {CallOutcome.MISSED: CallbackReason.MISSED,
                     CallOutcome.ABANDONED: CallbackReason.ABANDONED,
                     CallOutcome.VOICEMAIL: CallbackReason.VOICEMAIL}


def callback_delay(call: Call) -> timedelta:
    minutes = settings.DESK_CALLBACK_MINUTES
    version = (ConsigneVersion.objects.filter(account_id=call.account_id)
               .order_by("-number").only("content").first())
    if version is not None and isinstance(version.content, dict):
        value = version.content.get("callback_minutes")
        if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 10_080:
            minutes = value
    return timedelta(minutes=minutes)


def callback_due(call: Call, now: datetime) -> datetime:
    delay = callback_delay(call)
    with contextlib.suppress(DomainError):  # a calendar that never opens: plain time
        return add_business_time(spec_for_account_cached(call.account), now, delay)
    return now + delay


def callback_for_call(call: Call, *, now: datetime) -> Callback | None:
    """Inside the event processing's transaction (the call is locked): the call back owed for
    this call, created once; None when none is owed."""
    reason = REASON_OF_OUTCOME.get(call.outcome)  # type: ignore[call-overload]
    if (reason is None or call.account_id is None or call.direction != "inbound"
            or not call.from_number or call.from_number == "anonymous"):
        return None
    existing = Callback.objects.filter(call=call).first()
    if existing is not None:
        return existing
    assert call.account is not None  # noqa: S101 (account_id checked above)  # nosec B101
    return Callback.objects.create(
        account=call.account, call=call, number=call.from_number, name=call.caller_name,
        reason=reason, due_at=callback_due(call, now), assignee=agent_for_callback(call.account),
        created_at=now)


def callback_answered_after_all(call: Call, *, now: datetime) -> None:
    """The call was answered after all (a late event): the call back is not owed."""
    Callback.objects.filter(call=call, status=CallbackStatus.TODO).update(
        status=CallbackStatus.CANCELLED, done_at=now,
        note=_("Appel finalement décroché."))


# --- Reads --------------------------------------------------------------------------------------


def callbacks_visible_to(user: User) -> QuerySet[Callback]:
    """Call backs of the accounts the user may see (staff who answer)."""
    if not can_take_calls(user):
        return Callback.objects.none()
    return Callback.objects.filter(account__in=accounts_visible_to(user))


def callback_list(user: User, *, status: str = CallbackStatus.TODO, account: int | None = None,
                  mine: bool = False, overdue: bool = False) -> QuerySet[Callback]:
    qs = callbacks_visible_to(user).select_related("account", "assignee", "call", "done_by")
    if status:
        qs = qs.filter(status=status)
    if account is not None:
        qs = qs.filter(account_id=account)
    if mine:
        qs = qs.filter(Q(assignee=user) | Q(assignee__isnull=True))
    if overdue:
        qs = qs.filter(status=CallbackStatus.TODO, due_at__lt=clock.now())
    return qs.order_by("due_at", "pk")


def get_callback_for_user(user: User, pk: int) -> Callback:
    callback = callbacks_visible_to(user).filter(pk=pk).first()
    if callback is None:
        if not can_take_calls(user):
            raise Forbidden()
        raise NotFound(_("Rappel introuvable."))
    return callback


# --- Writes -------------------------------------------------------------------------------------


def _close(*, actor: User, callback: Callback, status: str, note: str) -> Callback:
    if not can_take_calls(actor):
        raise Forbidden()
    locked = Callback.objects.select_for_update().get(pk=callback.pk)
    if locked.status != CallbackStatus.TODO:
        raise DomainError("already_closed", _("Ce rappel est déjà clos."), status=409)
    locked.status = status
    locked.done_at = clock.now()
    locked.done_by = actor
    locked.note = note.strip()[:500]
    if status == CallbackStatus.DONE:
        locked.attempts += 1
    locked.save()
    audit_record(actor=actor, action=Action.UPDATE, target=locked, account=locked.account,
                 changes={"status": [CallbackStatus.TODO, status],
                          **({"note": ["", locked.note]} if locked.note else {})})
    return locked


@transaction.atomic
def callback_done(*, actor: User, callback: Callback, note: str = "") -> Callback:
    """« Rappelé »: the caller was called back."""
    return _close(actor=actor, callback=callback, status=CallbackStatus.DONE, note=note)


@transaction.atomic
def callback_cancel(*, actor: User, callback: Callback, note: str = "") -> Callback:
    """« Annuler »: no call back is owed after all (the caller called again, a wrong number)."""
    return _close(actor=actor, callback=callback, status=CallbackStatus.CANCELLED, note=note)
