"""« Transmettre »: the message taken reaches the people the consignes name, with proof.

`forward_send` writes one Forward row per recipient and channel (the consignes' "notify"
rules for the call's motif, urgency and the hour), in the business transaction:

- e-mail: the row is the outbox; the task `desk.forward_email` (written with the transaction)
  claims it with a conditional UPDATE, sends with no transaction open, records sent/failed;
- SMS: `core.sms.sms_send` stores the SMS in this transaction (the provider is called after
  commit); its status comes back through `forward_sms_status` (ref "desk.forward:<pk>").

Statuses only move forward (en file → envoyé → délivré → lu; échec with its reason). « Lu »
comes from the tracked « J'ai pris connaissance » link (`forward_mark_read`, public, by
token, idempotent) or the client opening the call in the espace client
(`forwards_mark_read_by_client`). Urgent rows carry `escalate_at` (now + the consignes'
delay); the scheduler job `desk.forwards_escalate` sends, for each call whose urgent message
nobody acknowledged in time, to the next recipients (the consignes' escalation) or the other
channel, and alerts staff. Every step is written on the call's conversation timeline.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils.timezone import localtime
from django.utils.translation import gettext as _

from permanence.accounts.models import Role, User
from permanence.accounts.selectors import accounts_visible_to
from permanence.audit.actions import Action
from permanence.audit.services import audit_record
from permanence.core import background, clock
from permanence.core.errors import DomainError, Forbidden
from permanence.core.sms import sms_send
from permanence.core.validators import phone_display
from permanence.inbox import services as inbox_services
from permanence.inbox.live import notifications_create

from . import selectors
from .models import Call, Forward, ForwardChannel, ForwardStatus, Urgency
from .permissions import can_take_calls

SMS_REF_PREFIX = "desk.forward:"
DEFAULT_ESCALATION_MINUTES = 15
# Statuses never move backwards (a late "delivered" receipt after "read" changes nothing).
_RANK: dict[str, int] = {ForwardStatus.QUEUED: 0, ForwardStatus.SENT: 1, ForwardStatus.FAILED: 1,
         ForwardStatus.DELIVERED: 2, ForwardStatus.READ: 3}
SMS_MESSAGE_CHARS = 300


def read_url(forward: Forward) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("forward_read", args=[forward.token])


def call_url(call: Call) -> str:
    return reverse("desk:call", args=[call.pk])


def _channel_label(channel: str) -> str:
    return str(ForwardChannel(channel).label) if channel in ForwardChannel.values else channel


def _event(call: Call, event: str, text: str, actor: User | None = None,
           **data: Any) -> None:
    """A step on the call's timeline: its conversation in the inbox."""
    if call.conversation_id is not None:
        inbox_services.conversation_event_record(
            conversation=call.conversation, event=event, text=text,  # type: ignore[arg-type]
            data={"call": call.pk, **data}, actor=actor)


def _lock_call(call: Call | int) -> Call:
    pk = call.pk if isinstance(call, Call) else call
    return (Call.objects.select_for_update(of=("self",))
            .select_related("account", "consigne_version", "conversation").get(pk=pk))


def _motif_label(call: Call) -> str:
    motif = selectors.consigne_motif(call.consigne_version, call.motif)
    return str((motif or {}).get("label") or call.motif or _("Appel"))


def _caller(call: Call) -> str:
    number = phone_display(call.from_number) if call.from_number.startswith("+") else ""
    name = call.caller_name or _("Appelant inconnu")
    return f"{name} ({number})" if number else name


def email_content(forward: Forward, call: Call) -> tuple[str, str]:
    """(subject, body) of the e-mail of one forward."""
    urgent = call.urgency == Urgency.URGENT
    subject = _("Message de %(caller)s — %(motif)s") % {
        "caller": call.caller_name or _("un appelant"), "motif": _motif_label(call)}
    if urgent:
        subject = _("[URGENT] %(subject)s") % {"subject": subject}
    offered = localtime(call.offered_at)
    lines = [_("Bonjour %(name)s,") % {"name": forward.recipient_name}, "",
             _("Nos télésecrétaires ont pris ce message pour %(account)s le %(date)s à "
               "%(time)s :")
             % {"account": call.account.name if call.account else "",
                "date": offered.strftime("%d/%m/%Y"), "time": offered.strftime("%H:%M")}, "",
             _("Appelant : %(caller)s") % {"caller": _caller(call)},
             _("Motif : %(motif)s") % {"motif": _motif_label(call)}]
    for question, answer in (call.answers.get("questions") or {}).items():
        lines.append(f"{question} : {answer}")
    for question, answer in selectors.call_triage_answers(call):
        lines.append(f"{question} : {answer}")
    if call.answers.get("emergency"):
        lines.append(_("⚠ Urgence vitale signalée à l'appelant : %(guidance)s")
                     % {"guidance": " ; ".join(selectors.call_guidance(call))})
    lines += ["", call.message, "",
              _("Confirmez que vous en avez pris connaissance : %(url)s")
              % {"url": read_url(forward)},
              _("Tous vos appels et messages : %(url)s")
              % {"url": settings.SITE_URL.rstrip("/") + reverse("portal:calls")}]
    return subject[:200], "\n".join(lines)


def sms_content(forward: Forward, call: Call) -> str:
    head = ("URGENT " if call.urgency == Urgency.URGENT else "") + (
        f"{call.account.name if call.account else ''} - {_caller(call)} - {_motif_label(call)}")
    text = call.message if len(call.message) <= SMS_MESSAGE_CHARS else (
        call.message[:SMS_MESSAGE_CHARS - 1] + "…")
    return f"{head} : {text}\n" + _("Lu : %(url)s") % {"url": read_url(forward)}


def _check_actor(actor: User, call: Call) -> None:
    if not can_take_calls(actor) or call.account is None or not accounts_visible_to(
            actor).filter(pk=call.account.pk).exists():
        raise Forbidden()


def _dispatch(forward: Forward, call: Call) -> None:
    """Queue the row's sending in the current transaction (see the module's docstring)."""
    if forward.channel == ForwardChannel.EMAIL:
        background.enqueue_with_transaction("desk.forward_email", forward.pk)
        return
    try:
        with transaction.atomic():  # a refusal leaves no half-written SMS row behind
            forward.sms_id = sms_send(to=forward.address, body=sms_content(forward, call),
                                      account_id=call.account_id,
                                      ref=f"{SMS_REF_PREFIX}{forward.pk}")
    except DomainError as exc:
        reason = next(iter(exc.fields.values()), [exc.message])[0] if exc.fields else (
            exc.message)
        forward.status, forward.reason = ForwardStatus.FAILED, str(reason)[:300]
    forward.save(update_fields=["sms_id", "status", "reason"])


def _create(call: Call, pairs: list[tuple[selectors.Recipient, str, str]], *, level: int,
            actor: User | None, now: datetime, escalate_at: datetime | None) -> list[Forward]:
    urgent = call.urgency == Urgency.URGENT
    rows = []
    for recipient, channel, address in pairs:
        forward = Forward.objects.create(
            account=call.account, call=call,  # type: ignore[misc]  # checked by the callers conversation=call.conversation,
            recipient_key=recipient.key[:60], recipient_name=recipient.name[:120] or address,
            channel=channel, address=address[:254], urgent=urgent, level=level,
            author=actor, created_at=now, escalate_at=escalate_at if urgent else None)
        _dispatch(forward, call)
        if forward.status == ForwardStatus.FAILED:  # refused at once (STOP, no SMS channel)
            _event(call, "desk_forward_failed", str(STATUS_TEXT[ForwardStatus.FAILED]) % {
                "channel": _channel_label(channel), "who": forward.recipient_name,
                "reason": forward.reason}, forward=forward.pk)
        rows.append(forward)
    return rows


def _escalation_delay(call: Call, at: datetime) -> timedelta:
    minutes, _people = selectors.consigne_escalation(call.consigne_version, at)
    return timedelta(minutes=max(1, minutes or DEFAULT_ESCALATION_MINUTES))


def _describe(rows: list[Forward]) -> str:
    return ", ".join(f"{f.recipient_name} ({_channel_label(f.channel)})" for f in rows)


@transaction.atomic
def forward_send(*, actor: User, call: Call) -> list[Forward]:
    """« Transmettre »: to each recipient and channel the consignes name for the call's motif
    and urgency now; again only to those whose previous sending failed."""
    call = _lock_call(call)
    _check_actor(actor, call)
    if call.conversation_id is None or not call.message:
        raise DomainError("not_recorded", _("Enregistrez le message avant de le transmettre."),
                          status=409)
    now = clock.now()
    urgent = call.urgency == Urgency.URGENT
    recipients = selectors.consigne_recipients_for(call.consigne_version, call.motif, urgent,
                                                   now)
    pairs = [(r, channel, address) for r in recipients for channel, address in r.addresses()]
    if not pairs:
        raise DomainError("no_recipient", _("Les consignes ne désignent personne à prévenir "
                                            "pour ce motif (ou sans adresse) : complétez-les "
                                            "ou prévenez le client vous-même."), status=422)
    done = set(Forward.objects.filter(call=call, level=0).exclude(
        status=ForwardStatus.FAILED).values_list("recipient_key", "channel"))
    pairs = [p for p in pairs if (p[0].key, p[1]) not in done]
    if not pairs:
        raise DomainError("already_forwarded", _("Ce message a déjà été transmis."),
                          status=409)
    rows = _create(call, pairs, level=0, actor=actor, now=now,
                   escalate_at=now + _escalation_delay(call, now) if urgent else None)
    _event(call, "desk_forwarded", _("Message transmis à %(who)s")
           % {"who": _describe(rows)}, actor=actor, forwards=[f.pk for f in rows])
    audit_record(actor=actor, action=Action.UPDATE, target=call, account=call.account,
                 changes={"forwarded": [f"{f.recipient_name} ({f.channel})" for f in rows]})
    return rows


# --- Outcomes: sent, delivered, failed, read -----------------------------------------------


def forward_email_claim(*, forward_id: int) -> Forward | None:
    """Claim the e-mail of a forward (a conditional UPDATE: a duplicated task finds nothing)."""
    claimed = Forward.objects.filter(pk=forward_id, channel=ForwardChannel.EMAIL,
                                     status=ForwardStatus.QUEUED, sent_at__isnull=True,
                                     ).update(sent_at=clock.now())
    if not claimed:
        return None
    return Forward.objects.select_related("call__account", "call__consigne_version",
                                          "account").get(pk=forward_id)


SWEEP_GRACE = timedelta(minutes=5)
SWEEP_LEASE = timedelta(minutes=30)
SWEEP_HORIZON = timedelta(days=2)


def forward_emails_lost(*, now: datetime, limit: int = 500) -> list[int]:
    """E-mail forwards whose sending was lost: never claimed `SWEEP_GRACE` after they were
    written (the wake-up was lost: to enqueue again). Those claimed and never recorded after
    `SWEEP_LEASE` (the worker died while sending) are marked failed, never sent twice."""
    base = Forward.objects.filter(channel=ForwardChannel.EMAIL, status=ForwardStatus.QUEUED,
                                  created_at__gte=now - SWEEP_HORIZON)
    for forward in base.filter(sent_at__lte=now - SWEEP_LEASE).select_related("call")[:limit]:
        forward_status_record(forward_id=forward.pk, status=ForwardStatus.FAILED,
                              reason=_("Envoi interrompu : transmettez à nouveau."))
    return list(base.filter(sent_at__isnull=True, created_at__lte=now - SWEEP_GRACE)
                .order_by("created_at").values_list("pk", flat=True)[:limit])


def _move(forward: Forward, status: str, reason: str, at: datetime) -> bool:
    if forward.status == status or _RANK[status] < _RANK[forward.status] or (
            forward.status == ForwardStatus.FAILED and status != ForwardStatus.READ):
        return False
    forward.status, forward.reason = status, reason[:300]
    if status == ForwardStatus.SENT:
        forward.sent_at = forward.sent_at or at
    elif status == ForwardStatus.DELIVERED:
        forward.sent_at = forward.sent_at or at
        forward.delivered_at = at
    elif status == ForwardStatus.READ:
        forward.read_at = at
        forward.escalate_at = None
    forward.save(update_fields=["status", "reason", "sent_at", "delivered_at", "read_at",
                                "escalate_at"])
    return True


STATUS_TEXT: dict[str, Any] = {
    ForwardStatus.SENT: _("%(channel)s envoyé à %(who)s"),
    ForwardStatus.DELIVERED: _("%(channel)s délivré à %(who)s"),
    ForwardStatus.FAILED: _("Échec de l'envoi (%(channel)s) à %(who)s : %(reason)s"),
}


@transaction.atomic
def forward_status_record(*, forward_id: int, status: str, reason: str = "") -> bool:
    """The channel's outcome for one forward; False when it changes nothing."""
    forward = (Forward.objects.select_for_update(of=("self",))
               .select_related("call__conversation").filter(pk=forward_id).first())
    if forward is None or status not in STATUS_TEXT:
        return False
    if not _move(forward, status, reason, clock.now()):
        return False
    if forward.call is not None:
        _event(forward.call, f"desk_forward_{status}", str(STATUS_TEXT[status]) % {
            "channel": _channel_label(forward.channel), "who": forward.recipient_name,
            "reason": reason or _("raison inconnue")}, forward=forward.pk)
    return True


def forward_sms_status(ref: str, status: str, reason: str) -> None:
    """core.sms listener (ref "desk.forward:<pk>"), inside the SMS channel's transaction."""
    try:
        forward_id = int(ref.removeprefix(SMS_REF_PREFIX))
    except ValueError:
        return
    forward_status_record(forward_id=forward_id, status=status, reason=reason)


def _acknowledged(call: Call, rows: list[Forward], at: datetime, text: str) -> None:
    """The message was read: no escalation any more for the call; staff told live."""
    Forward.objects.filter(call=call, escalate_at__isnull=False).update(escalate_at=None)
    _event(call, "desk_forward_read", text, forwards=[f.pk for f in rows])
    people = {u.pk: u for u in User.objects.filter(pk__in=[call.agent_id or 0], is_active=True)}
    if people:
        notifications_create(people.values(), kind="desk_read", text=text, link=call_url(call),
                             now=at)


@transaction.atomic
def forward_mark_read(*, token: str) -> Forward | None:
    """« J'ai pris connaissance » (public, by token): idempotent; None for an unknown token."""
    forward = (Forward.objects.select_for_update(of=("self",)).select_related(
        "call__conversation", "account").filter(token=(token or "")[:40]).first())
    if forward is None:
        return None
    if forward.read_at is not None:
        return forward
    now = clock.now()
    _move(forward, ForwardStatus.READ, "", now)
    audit_record(actor=None, action=Action.UPDATE, target=forward, account=forward.account,
                 actor_label=forward.address, changes={"status": [None, ForwardStatus.READ]})
    if forward.call is not None:
        _acknowledged(forward.call, [forward], now,
                      _("Lu par %(who)s (lien « J'ai pris connaissance », %(channel)s)")
                      % {"who": forward.recipient_name,
                         "channel": _channel_label(forward.channel)})
    return forward


@transaction.atomic
def forwards_mark_read_by_client(*, user: User, call: Call) -> int:
    """The client opened the call in the espace client: its unread forwards are read."""
    if call.account is None or not call.account.memberships.filter(user=user).exists():
        raise Forbidden()
    now = clock.now()
    rows = list(Forward.objects.select_for_update().filter(call=call, read_at__isnull=True))
    for forward in rows:
        _move(forward, ForwardStatus.READ, "", now)
    if rows:
        _acknowledged(call, rows, now, _("Lu dans l'espace client par %(who)s")
                      % {"who": user.full_name or user.email})
    return len(rows)


# --- Escalation ------------------------------------------------------------------------------


def forwards_due_for_escalation(*, now: datetime, limit: int = 500) -> list[int]:
    """Calls with an urgent message not acknowledged by its escalation time."""
    return list(Forward.objects.filter(escalate_at__lte=now, read_at__isnull=True,
                                       call__isnull=False)
                .order_by("escalate_at").values_list("call_id", flat=True)
                .distinct()[:limit])


def _staff_to_alert(call: Call) -> list[User]:
    ids = set(User.objects.filter(role__in=[Role.ADMIN, Role.SUPERVISOR], is_active=True)
              .values_list("pk", flat=True))
    if call.account is not None:
        ids |= set(call.account.assigned_agents.filter(is_active=True)
                   .values_list("pk", flat=True))
    if call.agent_id:
        ids.add(call.agent_id)
    return list(User.objects.filter(pk__in=ids, is_active=True).order_by("pk"))


@transaction.atomic
def forward_escalate(*, call_id: int, now: datetime | None = None) -> list[Forward]:
    """Nobody acknowledged the urgent message of `call_id` in time: send it to the next
    recipients (the consignes' escalation list, else the other channel of the same people)
    and alert staff. Returns the new rows (none when acknowledged meanwhile)."""
    now = now or clock.now()
    call = _lock_call(call_id)
    due = list(Forward.objects.filter(call=call, escalate_at__lte=now, read_at__isnull=True))
    if not due or Forward.objects.filter(call=call, read_at__isnull=False).exists():
        Forward.objects.filter(call=call).update(escalate_at=None)
        return []
    Forward.objects.filter(call=call).update(escalate_at=None)
    used = set(Forward.objects.filter(call=call).exclude(status=ForwardStatus.FAILED)
               .values_list("recipient_key", "channel"))
    version = call.consigne_version
    pairs = [(r, c, a) for r in selectors.consigne_escalation(version, now)[1]
             for c, a in r.addresses() if (r.key, c) not in used]
    if not pairs:  # the same people, on the channel not tried yet
        urgent = call.urgency == Urgency.URGENT
        pairs = [(r, c, a) for r in selectors.consigne_recipients_for(
                     version, call.motif, urgent, now)
                 for c, a in selectors.Recipient(
                     key=r.key, name=r.name, email=r.email, phone=r.phone,
                     channels=("sms", "email")).addresses() if (r.key, c) not in used]
    level = (Forward.objects.filter(call=call).aggregate(m=Max("level"))["m"] or 0) + 1
    rows = _create(call, pairs, level=level, actor=None, now=now,
                   escalate_at=now + _escalation_delay(call, now)) if pairs else []
    text = (_("Message urgent non lu : escalade vers %(who)s") % {"who": _describe(rows)}
            if rows else _("Message urgent non lu et plus personne à prévenir : "
                           "appelez le client."))
    _event(call, "desk_forward_escalated", text, forwards=[f.pk for f in rows])
    notifications_create(_staff_to_alert(call), kind="desk_escalation",
                         text=f"{call.account.name if call.account else ''} — {text}",
                         link=call_url(call), now=now)
    audit_record(actor=None, action=Action.UPDATE, target=call, account=call.account,
                 actor_label="desk.forwards_escalate",
                 changes={"escalated": [f"{f.recipient_name} ({f.channel})" for f in rows]})
    return rows
