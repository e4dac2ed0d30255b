"""Periodic SLA check: warnings at the policy ratio (75 %) and breaches, recorded once."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction

from permanence.accounts.models import Role, User
from permanence.core import background, clock

from . import payloads, sla
from .live import inbox_changed
from .models import OPEN_STATUSES, Conversation, Message, SlaEvent

logger = logging.getLogger(__name__)

TARGETS = ("first_response", "next_response", "resolution")


def _start_of(conversation: Conversation, target: str) -> datetime:
    if target == "next_response" and conversation.last_inbound_at:
        return conversation.last_inbound_at
    return conversation.created_at


def _paused(conversation: Conversation, target: str) -> int:
    """Paused business seconds inside the target's window (the first response and the
    resolution count from creation; the next response from the last inbound message)."""
    return 0 if target == "next_response" else conversation.sla_paused_seconds


def _record(conversation: Conversation, kind: str, target: str, due_at: datetime,
            now: datetime) -> bool:
    try:
        with transaction.atomic():
            SlaEvent.objects.create(conversation=conversation, kind=kind, target=target,
                                    due_at=due_at, at=now)
    except IntegrityError:  # already recorded for this due instant
        return False
    return True


def _recipients(conversation: Conversation) -> list[int]:
    ids = set(User.objects.filter(role=Role.SUPERVISOR, is_active=True).values_list("pk",
                                                                                   flat=True))
    if conversation.assignee_id:
        ids.add(conversation.assignee_id)
    return sorted(ids)


def run(now: datetime | None = None) -> str:
    """One pass over the open conversations. One conversation's failure (its account's
    calendar never opens, say) is logged and skipped: it never stops the others."""
    now = now or clock.now()
    warned = breached = failed = 0
    candidates = (Conversation.objects.filter(status__in=OPEN_STATUSES,
                                              sla_paused_at__isnull=True,
                                              next_due_at__isnull=False,
                                              merged_into__isnull=True)
                  .select_related("account__sla_policy"))
    # Read once per run: looking it up per conversation was a query each.
    default_ratio = float(sla.ensure_default_policy().warn_ratio)
    for conversation in candidates.iterator(chunk_size=500):
        try:
            with transaction.atomic():  # a savepoint: a failure undoes this one only
                w, b = _check(conversation, now, default_ratio)
        except Exception:
            failed += 1
            logger.exception("SLA check of conversation %s (account %s) failed; skipped",
                             conversation.pk, conversation.account_id)
            continue
        warned += w
        breached += b
    return f"warned {warned}, breached {breached}" + (f", failed {failed}" if failed else "")


def _check(conversation: Conversation, now: datetime, default_ratio: float) -> tuple[int, int]:
    """Warnings and breaches of one conversation: (warned, breached)."""
    warned = breached = 0
    spec = sla.clock_spec(conversation)
    own_policy = getattr(conversation.account, "sla_policy", None)
    ratio_limit = float(own_policy.warn_ratio) if own_policy else default_ratio
    for target in TARGETS:
        due_at = getattr(conversation, f"{target}_due_at")
        if due_at is None:
            continue
        kind = None
        if now >= due_at:
            kind = SlaEvent.Kind.BREACH
        elif sla.elapsed_ratio(spec, _start_of(conversation, target), due_at, now,
                               paused_seconds=_paused(conversation, target)) >= ratio_limit:
            kind = SlaEvent.Kind.WARNING
        if kind is None or not _record(conversation, kind, target, due_at, now):
            continue
        _after_event(conversation, kind, target, due_at, now)
        if kind == SlaEvent.Kind.BREACH:
            breached += 1
        else:
            warned += 1
        note_kind = "sla_breach" if kind == SlaEvent.Kind.BREACH else "sla_warning"
        for uid in _recipients(conversation):
            background.enqueue_on_commit("inbox.notify", uid, conversation.pk, note_kind,
                                         None)
        inbox_changed(conversation.pk, "sla")
    return warned, breached


def _after_event(conversation: Conversation, kind: str, target: str, due_at: datetime,
                 now: datetime) -> None:
    data: dict[str, Any] = {"kind": kind, "target": target, "due_at": due_at.isoformat()}
    Message.objects.create(conversation=conversation, direction="system",
                           channel=conversation.channel, event=f"sla_{kind}", data=data,
                           created_at=now)
    if kind == SlaEvent.Kind.BREACH:
        payloads.webhooks_emit_for("sla.breached", conversation.pk,
                                   data={"target": target, "due_at": due_at.isoformat()})
    if kind == SlaEvent.Kind.BREACH and conversation.sla_breached_at is None:
        Conversation.objects.filter(pk=conversation.pk).update(sla_breached_at=now)
    if kind == SlaEvent.Kind.WARNING and conversation.sla_warned_at is None:
        Conversation.objects.filter(pk=conversation.pk).update(sla_warned_at=now)
