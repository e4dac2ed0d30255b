"""Retention schedules (RGPD art. 5(1)(e)) and the job that applies them.

Each named rule of the registry (registry.RETENTION) has a duration in days: the CNIL default,
or an administrator's (RetentionSchedule). The job runs the purgers of each rule with a
duration: a purger selects the rows of one model past the duration that still hold personal
data, and anonymises (or, for the audit log, deletes) them. What « past » means, per rule:

- recordings: a call's recording reference older than the duration (from the call's
  offering) is removed; a provider's deletion is asked (outside any transaction) when an
  adapter registered one (register_recording_deleter; none today: only our reference goes);
- chat_transcripts: a chat ended longer ago: the visitor's name, e-mail and page anonymised,
  the chat conversation's messages' bodies replaced, the bot's questions and notes cleared;
- audit_log: audit events older than the duration deleted (audit.services.audit_purge_before,
  the log's only deletion path);
- technical: the payloads of provider events, call events, SMS events (processed ones) and
  webhook deliveries (sent or failed ones) received longer ago emptied;
- prospects: quotes never accepted without activity (last change) for the duration, their
  history notes, feedback and knowledge-base vote comments anonymised;
- ended_accounts: the contacts, conversations, messages and calls of accounts terminated
  (« Résilié ») whose contract ended longer ago (the last subscription's end, else the
  account's last change) anonymised;
- invoices: never touched (ten years, legal minimum): the job only reports how many are past.

Purgers are idempotent: they select only rows still holding data, so a second run finds
nothing. Rows are taken in batches of BATCH, each anonymised in its own short transaction;
no network call is made while one is open. A dry run counts what the real run would change,
with the same selections.

This module decides and reads; it writes only the privacy app's own tables. Each purger's
write is a function of the app owning the table (its `forget` module, which also says what
« anonymised » means there): an app writes only its own tables
(privacy/tests/test_layering.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Max, Q, QuerySet
from django.utils.translation import gettext as _

from permanence.accounts.models import AccountStatus, ClientAccount, User
from permanence.audit.actions import Action
from permanence.audit.selectors import audit_events_before
from permanence.audit.services import audit_purge_before, audit_record
from permanence.billing.models import Invoice
from permanence.channels_sms import forget as sms_forget
from permanence.channels_sms.models import SmsEvent
from permanence.core import clock
from permanence.core.errors import DomainError
from permanence.core.forgetting import ANONYMISED, REDACTED
from permanence.desk import forget as desk_forget
from permanence.desk.models import Call, CallEvent
from permanence.feedback import forget as feedback_forget
from permanence.feedback.models import Feedback
from permanence.inbox import forget as inbox_forget
from permanence.inbox.models import Contact, Conversation, Message
from permanence.integrations import forget as integrations_forget
from permanence.integrations.models import WebhookDelivery
from permanence.knowledge import forget as knowledge_forget
from permanence.knowledge.models import ArticleVote
from permanence.livechat import forget as livechat_forget
from permanence.livechat.models import BotExchange, ChatSession, ChatStatusChange
from permanence.payments import forget as payments_forget
from permanence.payments.models import ProviderEvent
from permanence.shop import forget as shop_forget
from permanence.shop.models import Quote, QuoteStatus, QuoteStatusChange

from . import registry
from .models import RetentionRun, RetentionSchedule

logger = logging.getLogger(__name__)

BATCH = 1000

# The shortest duration an administrator may set per rule, in days: the legal minimum for
# invoices (ten years, Code de commerce L123-22), otherwise the time the service needs the
# data (a disputed call, a chat followed up, an audit over a quarter, a provider's retries).
MINIMUM_DAYS: dict[str, int] = {
    "invoices": 10 * 365, "prospects": 365, "ended_accounts": 365, "recordings": 30,
    "chat_transcripts": 30, "audit_log": 180, "technical": 30,
}
MAXIMUM_DAYS = 100 * 365


def durations() -> dict[str, int | None]:
    """Every rule's duration in days (None: kept while the relationship lasts)."""
    chosen = dict(RetentionSchedule.objects.values_list("rule", "days"))
    return {key: (chosen.get(key, rule.days) if rule.days is not None else None)
            for key, rule in registry.RETENTION.items()}


def schedule_set(*, actor: User, rule: str, days: int) -> RetentionSchedule:
    """An administrator's duration for `rule`, validated against its minimum; audited."""
    if rule not in registry.RETENTION or registry.RETENTION[rule].days is None:
        raise DomainError("retention_rule", _("Règle de conservation inconnue."),
                          fields={"rule": [_("Choisissez une règle de la liste.")]})
    minimum = MINIMUM_DAYS.get(rule, 1)
    if days < minimum:
        message = (_("Les factures se conservent au moins 10 ans (obligation légale).")
                   if rule == "invoices" else
                   _("Au moins %(days)s jours pour cette règle.") % {"days": minimum})
        raise DomainError("retention_minimum", message, fields={"days": [message]})
    if days > MAXIMUM_DAYS:
        message = _("Au plus %(days)s jours.") % {"days": MAXIMUM_DAYS}
        raise DomainError("retention_maximum", message, fields={"days": [message]})
    with transaction.atomic():
        before = durations()[rule]
        row, _created = RetentionSchedule.objects.select_for_update().update_or_create(
            rule=rule, defaults={"days": days, "updated_at": clock.now(), "updated_by": actor})
        audit_record(actor=actor, action=Action.UPDATE, target=row,
                     changes={"days": [before, days]})
    return row


# --- Purgers ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Purger:
    rule: str
    model: str  # "app.Model", for the report
    select: Callable[[datetime], QuerySet[Any]]  # rows past `cutoff` still holding data
    # The owning app's write on the rows selected (primary keys): the rows changed.
    forget: Callable[[list[int]], int] | None = None
    apply: Callable[[datetime, list[int]], int] | None = None  # instead of forget


def _ended_account_ids(cutoff: datetime) -> list[int]:
    """Accounts terminated whose contract ended before `cutoff`."""
    rows = (ClientAccount.objects.filter(status=AccountStatus.TERMINATED, is_operator=False)
            .annotate(last_end=Max("subscriptions__ends_on"))
            .values_list("pk", "last_end", "updated_at"))
    return [pk for pk, last_end, updated_at in rows
            if (last_end < cutoff.date() if last_end is not None else updated_at < cutoff)]


def _chat_conversations(cutoff: datetime) -> QuerySet[Any]:
    return ChatSession.objects.filter(ended_at__lt=cutoff, conversation__isnull=False
                                      ).values("conversation_id")


def _audit_apply(cutoff: datetime, pks: list[int]) -> int:
    return audit_purge_before(cutoff, limit=len(pks))


def _not_processed_technical(model: Any, cutoff: datetime) -> QuerySet[Any]:
    return model.objects.filter(received_at__lt=cutoff, processed_at__isnull=False
                                ).exclude(payload={})


PURGERS: tuple[Purger, ...] = (
    Purger("recordings", "desk.Call",
           lambda c: Call.objects.filter(offered_at__lt=c).exclude(recording_url=""),
           desk_forget.calls_recording_forget),
    Purger("chat_transcripts", "inbox.Message",
           lambda c: Message.objects.filter(conversation__in=_chat_conversations(c))
           .exclude(body_text=REDACTED), inbox_forget.messages_redact),
    Purger("chat_transcripts", "livechat.BotExchange",
           lambda c: BotExchange.objects.filter(session__ended_at__lt=c).exclude(question=""),
           livechat_forget.bot_exchanges_forget),
    Purger("chat_transcripts", "livechat.ChatStatusChange",
           lambda c: ChatStatusChange.objects.filter(session__ended_at__lt=c).exclude(note=""),
           livechat_forget.chat_status_changes_forget),
    Purger("chat_transcripts", "livechat.ChatSession",
           lambda c: ChatSession.objects.filter(ended_at__lt=c).exclude(
               visitor_name=ANONYMISED, visitor_email="", page_url="", page_title=""),
           livechat_forget.chat_sessions_anonymise),
    Purger("audit_log", "audit.AuditEvent",
           audit_events_before, apply=_audit_apply),
    Purger("technical", "payments.ProviderEvent",
           lambda c: _not_processed_technical(ProviderEvent, c),
           payments_forget.provider_events_payload_forget),
    Purger("technical", "desk.CallEvent",
           lambda c: _not_processed_technical(CallEvent, c),
           desk_forget.call_events_payload_forget),
    Purger("technical", "channels_sms.SmsEvent",
           lambda c: _not_processed_technical(SmsEvent, c),
           sms_forget.sms_events_payload_forget),
    Purger("technical", "integrations.WebhookDelivery",
           lambda c: WebhookDelivery.objects.filter(
               created_at__lt=c, status__in=[WebhookDelivery.Status.SENT,
                                             WebhookDelivery.Status.FAILED]
           ).exclude(payload={}), integrations_forget.webhook_deliveries_payload_forget),
    Purger("prospects", "shop.QuoteStatusChange",
           lambda c: QuoteStatusChange.objects.filter(quote__updated_at__lt=c).exclude(
               quote__status=QuoteStatus.ACCEPTED).exclude(note=""),
           shop_forget.quote_status_changes_forget),
    Purger("prospects", "shop.Quote",
           lambda c: Quote.objects.filter(updated_at__lt=c).exclude(
               status=QuoteStatus.ACCEPTED).exclude(
               requester_name=ANONYMISED, requester_email="", requester_phone="", message="",
               needs=""),
           shop_forget.quotes_anonymise),
    Purger("prospects", "feedback.Feedback",
           lambda c: Feedback.objects.filter(updated_at__lt=c).filter(
               ~Q(comment="") | ~Q(notes="") | Q(user__isnull=False)),
           feedback_forget.feedback_anonymise),
    Purger("prospects", "knowledge.ArticleVote",
           lambda c: ArticleVote.objects.filter(created_at__lt=c).exclude(comment=""),
           knowledge_forget.article_votes_forget),
    Purger("ended_accounts", "inbox.Message",
           lambda c: Message.objects.filter(conversation__account__in=_ended_account_ids(c))
           .exclude(body_text=REDACTED), inbox_forget.messages_redact),
    Purger("ended_accounts", "inbox.Conversation",
           lambda c: Conversation.objects.filter(account__in=_ended_account_ids(c)).exclude(
               subject=ANONYMISED, search_text=""),
           inbox_forget.conversations_anonymise),
    Purger("ended_accounts", "inbox.Contact",
           lambda c: Contact.objects.filter(account__in=_ended_account_ids(c)).exclude(
               name=ANONYMISED, email="", phone=""),
           inbox_forget.contacts_anonymise),
    Purger("ended_accounts", "desk.Call",
           lambda c: Call.objects.filter(account__in=_ended_account_ids(c)).exclude(
               from_number="", caller_name="", message="", recording_url="", answers={}),
           desk_forget.calls_anonymise),
)

# Who deletes a recording at its provider, given its URL (none registered today: a provider
# adapter would register one). Called after the batch's transaction has committed.
_RECORDING_DELETERS: list[Callable[[str], None]] = []


def register_recording_deleter(deleter: Callable[[str], None]) -> None:
    _RECORDING_DELETERS.append(deleter)


def _cutoffs(now: datetime) -> dict[str, datetime]:
    return {rule: now - timedelta(days=days) for rule, days in durations().items()
            if days is not None and rule != "invoices"}


def _purge(purger: Purger, cutoff: datetime) -> int:
    """Runs the purger in batches of BATCH rows, one short transaction each."""
    total = 0
    while True:
        pks = list(purger.select(cutoff).order_by("pk").values_list("pk", flat=True)[:BATCH])
        if not pks:
            return total
        urls: list[str] = []
        with transaction.atomic():
            if purger.forget is not None:
                # The batch's rows still selected, locked until the owning app's write: a
                # row that changed meanwhile (a quote accepted) is left alone, as it was when
                # the write was one UPDATE … WHERE here. (SQLite ignores the lock: its write
                # transactions are serialised anyway.)
                rows = (purger.select(cutoff).filter(pk__in=pks).order_by("pk")
                        .select_for_update(of=("self",)))
                still = list(rows.values_list("pk", flat=True))
                if purger.rule == "recordings" and _RECORDING_DELETERS:
                    urls = list(rows.values_list("recording_url", flat=True))
                done = purger.forget(still) if still else 0
            elif purger.apply is not None:
                done = purger.apply(cutoff, pks)
            else:
                raise ValueError(f"{purger.model}: a purger without forget nor apply")
        for url in urls:  # the provider's copy, outside the transaction
            for deleter in _RECORDING_DELETERS:
                try:
                    deleter(url)
                except Exception:  # a provider's failure never stops the job
                    logger.exception("recording deletion at the provider failed")
        total += done
        if done == 0:  # nothing changed: never loop on rows that stay selected
            return total


def _invoices_past(now: datetime) -> int:
    days = durations()["invoices"] or 10 * 365
    return Invoice.objects.filter(issued_on__lt=(now - timedelta(days=days)).date()).count()


def retention_run(*, dry_run: bool, actor: User | None = None) -> RetentionRun:
    """One run: counts (dry run) or anonymises and deletes (real run) what is past each
    rule's duration; recorded in a RetentionRun with the counts per rule and model."""
    now = clock.now()
    run = RetentionRun.objects.create(started_at=now, dry_run=dry_run, requested_by=actor)
    cutoffs = _cutoffs(now)
    counts: dict[str, dict[str, int]] = {}
    try:
        for purger in PURGERS:
            cutoff = cutoffs.get(purger.rule)
            if cutoff is None:
                continue
            n = purger.select(cutoff).count() if dry_run else _purge(purger, cutoff)
            per_rule = counts.setdefault(purger.rule, {})
            per_rule[purger.model] = per_rule.get(purger.model, 0) + n
    except Exception as exc:
        logger.exception("retention run failed")
        run.error = str(exc)[:4000]
    run.counts = counts
    run.kept = {"invoices": {"billing.Invoice": _invoices_past(now)}}
    run.finished_at = clock.now()
    run.save(update_fields=["counts", "kept", "finished_at", "error"])
    audit_record(actor=actor, action=Action.CREATE,
                 target=run, actor_label="" if actor else "retention",
                 changes={"dry_run": dry_run, "counts": counts})
    return run


def retention_apply() -> tuple[RetentionRun, RetentionRun]:
    """The scheduled job: the dry-run report first, then the real run (both recorded)."""
    return retention_run(dry_run=True), retention_run(dry_run=False)


def simulate(*, actor: User) -> RetentionRun:
    """« Simuler maintenant »: a dry run asked by an administrator."""
    return retention_run(dry_run=True, actor=actor)


def latest_runs(limit: int = 10) -> list[RetentionRun]:
    return list(RetentionRun.objects.select_related("requested_by")[:limit])


def rules_overview() -> list[dict[str, Any]]:
    """Each rule, what it covers (the registry's entries), its default and current duration."""
    current = durations()
    return [{"key": key, "rule": rule, "days": current[key], "default": rule.days,
             "minimum": MINIMUM_DAYS.get(key), "editable": rule.days is not None,
             "entries": [e for e in registry.REGISTRY if e.retention == key]}
            for key, rule in registry.RETENTION.items()]
