"""Reads of the desk: which calls a user may see, the call screen's data (account, greeting,
consignes in force, who is calling), the calls lists, the forwards of a call.

`calls_visible_to` is the one gate in front of every call query: a call is visible when its
account is (accounts.selectors.accounts_visible_to); calls to an unknown number (no account
yet) only to those who supervise the desk.

The consignes are read through desk.consignes (`consigne_*` below adapt its shapes to what
the call screen and the forwarding use)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.timezone import localdate
from django.utils.translation import gettext as _

from permanence.accounts.models import ClientAccount, User
from permanence.accounts.permissions import Actor, sees_all_accounts
from permanence.accounts.selectors import accounts_visible_to
from permanence.core import clock, crypto
from permanence.core.errors import NotFound
from permanence.inbox.models import Contact, Conversation
from permanence.inbox.selectors import conversations_visible_to

from . import consignes
from .consignes_doc import triage_answer_key, triage_answer_label, triage_emergency_key
from .models import (
    ACTIVE_CALL_STATES,
    Call,
    CallState,
    ConsigneVersion,
    Forward,
    ForwardStatus,
    Urgency,
)
from .permissions import can_supervise_desk

# --- Consignes (through desk.consignes) -----------------------------------------------------


@dataclass(frozen=True)
class Recipient:
    """Someone the consignes name for a message, and how to reach them."""

    key: str
    name: str
    email: str = ""
    phone: str = ""
    channels: tuple[str, ...] = ()

    def addresses(self) -> list[tuple[str, str]]:
        """(channel, address) for each channel the consignes ask for and the recipient has."""
        out = []
        for channel in self.channels:
            address = self.email if channel == "email" else self.phone if channel == "sms" else ""
            if address.strip():
                out.append((channel, address.strip()))
        return out


def _recipient(item: dict[str, Any]) -> Recipient:
    return Recipient(key=str(item.get("key") or ""), name=str(item.get("name") or ""),
                     email=str(item.get("email") or ""), phone=str(item.get("phone") or ""),
                     channels=tuple(c for c in item.get("channels") or []
                                    if c in ("email", "sms")))


def consigne_current(account: ClientAccount) -> ConsigneVersion | None:
    """The version in force: the highest number."""
    return consignes.consigne_current(account)


def consigne_motifs(version: ConsigneVersion | None) -> list[dict[str, Any]]:
    return [m for m in consignes.consigne_motifs(version) if m.get("code")]


def consigne_motif(version: ConsigneVersion | None, code: str) -> dict[str, Any] | None:
    return consignes.consigne_motif(version, code)


def consigne_triage(version: ConsigneVersion | None) -> list[dict[str, Any]]:
    return [t for t in consignes.consigne_triage(version) if t.get("question")]


def consigne_recipients_for(version: ConsigneVersion | None, motif_code: str, urgent: bool,
                            at: datetime) -> list[Recipient]:
    """Who is told, and how, for this motif and urgency at `at` (absences replaced)."""
    return [_recipient(r) for r in consignes.consigne_recipients_for(version, motif_code,
                                                                     urgent, at)]


def consigne_escalation(version: ConsigneVersion | None,
                        at: datetime) -> tuple[int | None, list[Recipient]]:
    """(delay in minutes or None, the escalation's recipients)."""
    delay, recipients = consignes.consigne_escalation(version, at)
    return delay, [_recipient(r) for r in recipients]


def greeting_render(version: ConsigneVersion | None, account: ClientAccount,
                    secretary: User | None = None) -> str:
    """The greeting script with the account's name, its hours and the secretary's name."""
    name = (secretary.full_name or secretary.email) if secretary else ""
    return consignes.consigne_greeting(account, version, secretaire=name)


def consigne_absences_today(version: ConsigneVersion | None) -> list[dict[str, Any]]:
    return consignes.consigne_absences_on(version, localdate(clock.now()))


def call_triage_answers(call: Call) -> list[tuple[str, str]]:
    """The triage questions and answers of a call, the answers in the reader's language."""
    triage = call.answers.get("triage") if isinstance(call.answers, dict) else None
    return [(str(q), triage_answer_label(a))
            for q, a in (triage if isinstance(triage, dict) else {}).items()]


def call_guidance(call: Call) -> list[str]:
    """What the caller was told for each emergency answer; the usual words when the consignes
    gave none (stored empty: the words are in the reader's language)."""
    guidance = call.answers.get("guidance") if isinstance(call.answers, dict) else None
    return [str(g or _("Appelez le 15 (SAMU) ou le 112"))
            for g in (guidance if isinstance(guidance, list) else [])]


def triage_emergencies(version: ConsigneVersion | None,
                       answers: dict[str, Any]) -> list[dict[str, Any]]:
    """The triage questions whose recorded answer is the one meaning emergency."""
    triage = answers.get("triage") if isinstance(answers.get("triage"), dict) else {}
    return [t for t in consigne_triage(version)
            if triage_answer_key((triage or {}).get(t["question"])).casefold()
            == triage_emergency_key(t.get("emergency")).casefold()]


# --- Calls ---------------------------------------------------------------------------------


def calls_visible_to(user: Actor) -> QuerySet[Call]:
    """The one gate in front of every call query, pages and API alike.

    Calls to an unknown number (no account yet) are seen by supervisors and administrators
    only (can_supervise_desk): they are the ones told of such a call and who attach the
    number to an account. Seeing every account (billing) is not enough: such a call is no
    account's yet."""
    if sees_all_accounts(user):
        condition = Q(account__isnull=False)
    else:
        # The ids first: a short IN list the planner reads against the (account, offered_at)
        # index, rather than a join through the accounts' visibility rules.
        condition = Q(account__in=list(accounts_visible_to(user).values_list("pk", flat=True)))
    if can_supervise_desk(user):
        condition |= Q(account__isnull=True)
    return Call.objects.filter(condition)


def get_call_for_user(user: Actor, pk: Any) -> Call:
    """The call if `user` may see it, else 404 (whatever the reason)."""
    try:
        return calls_visible_to(user).select_related(
            "account", "agent", "consigne_version", "conversation").get(pk=int(pk))
    except (Call.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("Appel introuvable.")) from None


def call_page(user: User, *, account: int | None = None, start: datetime | None = None,
              end: datetime | None = None, after: tuple[datetime, int] | None = None,
              limit: int = 50) -> list[Call]:
    """One page of calls, most recent first (keyset: `after` is the last row's
    (offered_at, id))."""
    qs = calls_visible_to(user)
    if account is not None:
        qs = qs.filter(account_id=account)
    if start is not None:
        qs = qs.filter(offered_at__gte=start)
    if end is not None:
        qs = qs.filter(offered_at__lt=end)
    if after is not None:
        qs = qs.filter(Q(offered_at__lt=after[0]) | Q(offered_at=after[0], pk__lt=after[1]))
    return list(qs.select_related("agent", "callback").order_by("-offered_at", "-pk")[:limit])


ACTIVE_STATES = ACTIVE_CALL_STATES


def desk_calls(user: User, *, limit: int = 30) -> dict[str, list[Call]]:
    """The desk home: calls in progress (mine first, then my accounts') and recent ones."""
    base = calls_visible_to(user).select_related("account", "agent")
    active = list(base.filter(state__in=ACTIVE_STATES).order_by("-offered_at", "-id")[:limit])
    active.sort(key=lambda c: c.agent_id != user.pk)
    recent = list(base.filter(state=CallState.ENDED).order_by("-offered_at", "-id")[:limit])
    return {"active": active, "recent": recent}


@dataclass
class Caller:
    """Who is calling, as far as the account's records tell."""

    number: str
    contact: Contact | None = None
    conversations: list[Conversation] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    vip: dict[str, Any] | None = None
    blocked: bool = False


def caller_identify(user: User, call: Call, *, limit: int = 5) -> Caller:
    """The known contact of the caller's number on the call's account, their recent
    conversations and previous calls, and what the consignes say of that number."""
    number = call.from_number if call.from_number.startswith("+") else ""
    caller = Caller(number=number)
    if call.account_id is None or not number:
        return caller
    caller.contact = Contact.objects.filter(account_id=call.account_id, phone=number).first()
    if caller.contact is not None:
        caller.conversations = list(
            conversations_visible_to(user).filter(contact=caller.contact)
            .exclude(pk=call.conversation_id or 0).defer("search_text")
            .order_by("-last_message_at")[:limit])
    caller.calls = list(calls_visible_to(user).filter(account_id=call.account_id,
                                                      from_number=number)
                        .exclude(pk=call.pk).order_by("-offered_at", "-id")[:limit])
    said = consignes.consigne_caller(consigne_current_for_call(call), number)
    caller.vip, caller.blocked = said["vip"], bool(said["blocked"])
    return caller


def consigne_current_for_call(call: Call) -> ConsigneVersion | None:
    """The version this call applied once recorded; the one in force before."""
    if call.consigne_version_id:
        return call.consigne_version
    return consigne_current(call.account) if call.account is not None else None


def call_forwards(call: Call) -> list[Forward]:
    return list(Forward.objects.filter(call=call).order_by("level", "created_at", "id"))


def forward_summary(forwards: list[Forward]) -> dict[str, int]:
    counts = {s: 0 for s in ForwardStatus.values}
    for f in forwards:
        counts[f.status] += 1
    return counts


# --- The espace client's call log ------------------------------------------------------------


@dataclass(frozen=True)
class CallFilters:
    start: datetime | None = None
    end: datetime | None = None
    motif: str = ""
    urgency: str = ""
    handled: str = ""  # "", "oui", "non"
    q: str = ""


def client_calls(account: ClientAccount, filters: CallFilters | None = None) -> QuerySet[Call]:
    """Every call and message taken for the account, newest first (the caller checked the
    account is the client's own). Constant queries: forwards are prefetched by the page."""
    filters = filters or CallFilters()
    qs = Call.objects.filter(account=account).select_related("agent", "consigne_version")
    if filters.start:
        qs = qs.filter(offered_at__gte=filters.start)
    if filters.end:
        qs = qs.filter(offered_at__lt=filters.end)
    if filters.motif:
        qs = qs.filter(motif=filters.motif)
    if filters.urgency in Urgency.values:
        qs = qs.filter(urgency=filters.urgency)
    if filters.handled == "oui":
        qs = qs.filter(handled_at__isnull=False)
    elif filters.handled == "non":
        qs = qs.filter(handled_at__isnull=True)
    q = filters.q.strip()[:100]
    if q:
        qs = qs.filter(call_search_condition(q))
    return qs.order_by("-offered_at", "-id")


def call_search_condition(q: str) -> Q:
    """The call log's search: the caller's name, the message or the motif contain `q`
    (any case), or the caller's number contains its digits (« 06 12 34 » finds +33612345678).
    On PostgreSQL the trigram index of migration desk/0008 answers these very expressions:
    change one, change the index."""
    digits = "".join(ch for ch in q if ch.isdigit())
    # A sealed message (desk.confidential) is ciphertext: a short query could match its
    # letters by chance, so sealed rows are found by name, number or motif only.
    by_message = Q(message__icontains=q) & ~Q(message__startswith=crypto.PREFIX)
    condition = Q(caller_name__icontains=q) | by_message | Q(motif__icontains=q)
    if len(digits) >= 4:
        condition |= Q(from_number__contains=digits[1:] if digits.startswith("0") else digits)
    return condition


def client_call(account: ClientAccount, pk: Any) -> Call:
    try:
        return Call.objects.select_related("agent", "consigne_version").get(
            account=account, pk=int(pk))
    except (Call.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("Appel introuvable.")) from None


def motif_labels(account: ClientAccount) -> dict[str, str]:
    """Motif code → label, from every version of the account's consignes (newest wins)."""
    labels: dict[str, str] = {}
    for content in (ConsigneVersion.objects.filter(account=account).order_by("number")
                    .values_list("content", flat=True)):
        for m in (content or {}).get("motifs") or []:
            if isinstance(m, dict) and m.get("code"):
                labels[str(m["code"])] = str(m.get("label") or m["code"])
    return labels


def forward_by_token(token: str) -> Forward | None:
    return (Forward.objects.select_related("account", "call").filter(token=token[:40])
            .first() if token else None)


# --- Billing's metering (billing.metering): plain rows in id order, read-only --------------


def calls_for_metering(*, after_id: int = 0, limit: int = 500,
                       ids: list[int] | None = None) -> list[dict[str, Any]]:
    """Calls with id > after_id (or among `ids`), in id order, at most `limit`: what usage
    metering needs of them."""
    qs = Call.objects.filter(pk__gt=after_id)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return [dict(row) for row in qs.order_by("pk").values(
        "id", "account_id", "outcome", "ended_at", "answered_at", "offered_at",
        "talk_seconds", "created_at")[:limit]]


def forwards_for_metering(*, after_id: int = 0, limit: int = 500,
                          ids: list[int] | None = None) -> list[dict[str, Any]]:
    """Forwards (messages passed on to the client) with id > after_id (or among `ids`), in
    id order, at most `limit`."""
    qs = Forward.objects.filter(pk__gt=after_id)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return [dict(row) for row in qs.order_by("pk").values(
        "id", "account_id", "channel", "status", "sms_id", "sent_at", "created_at")[:limit]]
