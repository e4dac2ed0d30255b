"""The call record: what the secretary writes while and after answering.

- `call_start_manual`: a call record started by hand (telephony not wired): manual=True,
  call_id "manual-…", answered at once by the secretary who starts it.
- `call_record_save`: the motif per the consignes in force (its mandatory questions are
  required: field errors `q_<n>`), the triage answers (`t_<n>`; an emergency answer makes the
  message urgent), the message, the urgency. The first save pins the consignes version and
  opens the inbox conversation of channel "téléphone" (kind phone message) through the
  inbox's services, so that the call sits on the account's timeline with everything else;
  later saves add what changed to that conversation.
- `call_close`: « Terminer »: ends the wrap-up (wrapup_seconds) through call_transition; a
  manual call, which no hang-up event will ever end, goes through post-appel first.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from permanence.accounts.models import ClientAccount, User
from permanence.accounts.selectors import accounts_visible_to
from permanence.audit.actions import Action
from permanence.audit.services import audit_record
from permanence.core import clock
from permanence.core.errors import DomainError, Forbidden, invalid, invalid_fields
from permanence.core.validators import normalise_phone
from permanence.inbox import services as inbox_services
from permanence.inbox.models import Priority

from . import selectors
from .agents import agent_follow_call, agent_wrapup_done
from .confidential import is_confidential, protect_document, protect_text
from .consignes_doc import triage_answer_key, triage_answer_label
from .machine import call_transition
from .models import Call, CallDirection, CallOutcome, CallState, Urgency
from .permissions import can_take_calls

MESSAGE_MAX = 5000
ANSWER_MAX = 500


def _check_actor(actor: User, account: ClientAccount | None) -> None:
    if not can_take_calls(actor):
        raise Forbidden(_("Vous ne prenez pas d'appels."))
    if account is not None and not accounts_visible_to(actor).filter(
            pk=account.pk).exists():
        raise Forbidden()


def _phone(value: str, field: str) -> str:
    value = (value or "").strip()
    if not value or value.lower() in ("anonymous", "anonyme", "masqué"):
        return ""
    try:
        return normalise_phone(value)
    except ValidationError as exc:
        raise invalid(**{field: str(exc.messages[0])}) from None


@transaction.atomic
def call_start_manual(*, actor: User, account: ClientAccount, from_number: str,
                      caller_name: str) -> Call:
    """A secretary starts a call record by hand: the call is answered, by them, now."""
    _check_actor(actor, account)
    number = _phone(from_number, "from_number")
    now = clock.now()
    to_number = (account.channels.filter(kind="phone").values_list("value", flat=True)
                 .first() or "")
    call = Call.objects.create(
        call_id=f"manual-{uuid.uuid4().hex}", account=account,
        direction=CallDirection.INBOUND, from_number=number,
        caller_name=(caller_name or "").strip()[:120], to_number=to_number, agent=actor,
        manual=True, offered_at=now, created_at=now, last_event_at=now,
        consigne_version=selectors.consigne_current(account))

    def stamp(c: Call, _current: str, _target: str, _actor: User | None, at: datetime) -> None:
        c.answered_at, c.wait_seconds, c.outcome = at, 0, CallOutcome.ANSWERED

    call = call_transition(call=call, to=CallState.ANSWERED, actor=actor, stamp=stamp,
                           note=_("appel saisi à la main"), now=now)
    agent_follow_call(user=actor, call=call, ringing_or_talking=True, now=now)
    audit_record(actor=actor, action=Action.CREATE, target=call, account=account,
                 changes={"manual": True, "from": number})
    return call


def _lock(call: Call) -> Call:
    # of=("self",): PostgreSQL refuses FOR UPDATE on the nullable side of an outer join.
    return (Call.objects.select_for_update(of=("self",))
            .select_related("account", "consigne_version", "conversation").get(pk=call.pk))


def _clean_answers(version: Any, motif: dict[str, Any] | None,
                   answers: dict[str, Any]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The answers kept (by question text) and the field errors of mandatory questions."""
    given_q = answers.get("questions") if isinstance(answers.get("questions"), dict) else {}
    given_t = answers.get("triage") if isinstance(answers.get("triage"), dict) else {}
    errors: dict[str, list[str]] = {}
    questions: dict[str, str] = {}
    for n, question in enumerate((motif or {}).get("questions") or []):
        value = str((given_q or {}).get(question) or "").strip()[:ANSWER_MAX]
        if not value:
            errors[f"q_{n}"] = [_("Réponse obligatoire pour ce motif.")]
        questions[str(question)] = value
    triage: dict[str, str] = {}
    for item in selectors.consigne_triage(version):
        # Stored as a key ("yes", "no") when it is the usual answer, in whatever language.
        value = triage_answer_key(str((given_t or {}).get(item["question"]) or "")[:ANSWER_MAX])
        if value:
            triage[str(item["question"])] = value
    return {"questions": questions, "triage": triage}, errors


def _summary(call: Call, motif_label: str) -> str:
    """The message as the conversation shows it: motif, answers, emergency, message."""
    lines = [_("Motif : %(motif)s") % {"motif": motif_label}] if motif_label else []
    for question, answer in (call.answers.get("questions") or {}).items():
        lines.append(f"{question} : {answer}")
    for question, answer in (call.answers.get("triage") or {}).items():
        lines.append(f"{question} : {triage_answer_label(answer)}")
    if call.answers.get("emergency"):
        lines.append(_("⚠ Urgence vitale signalée : %(guidance)s")
                     % {"guidance": " ; ".join(selectors.call_guidance(call))})
    lines += ["", call.message]
    return "\n".join(lines).strip()


def _validate(*, version: Any, motif: str, answers: dict[str, Any], message: str,
              urgency: str, caller_phone: str) -> tuple[dict[str, Any] | None,
                                                        dict[str, Any], str]:
    """(the chosen motif, the answers kept, the caller's phone) or the field errors."""
    chosen = selectors.consigne_motif(version, motif)
    errors: dict[str, list[str]] = {}
    if selectors.consigne_motifs(version) and chosen is None:
        errors["motif"] = [_("Choisissez le motif de l'appel.") if not motif
                           else _("Motif inconnu des consignes.")]
    kept, answer_errors = _clean_answers(version, chosen, answers or {})
    errors.update(answer_errors)
    if not message:
        errors["message"] = [_("Notez le message de l'appelant.")]
    elif len(message) > MESSAGE_MAX:
        errors["message"] = [ngettext("Message trop long (%(max)s caractère au plus).",
                                      "Message trop long (%(max)s caractères au plus).",
                                      MESSAGE_MAX) % {"max": MESSAGE_MAX}]
    if urgency not in Urgency.values:
        errors["urgency"] = [_("Valeur inconnue.")]
    phone = ""
    try:
        phone = _phone(caller_phone, "caller_phone")
    except DomainError as exc:
        errors.update(exc.fields)
    if errors:
        raise invalid_fields(errors)
    return chosen, kept, phone


def _sync_conversation(*, actor: User, call: Call, label: str, phone: str, email: str,
                       changed: bool) -> None:
    """The call on the account's timeline: opened at the first save, then kept up to date."""
    text = _summary(call, label)
    urgent = call.urgency == Urgency.URGENT
    confidential = is_confidential(call.account)
    if call.conversation is None:
        call.conversation = inbox_services.phone_message_record(
            actor=actor, account=call.account,  # type: ignore[arg-type]
            caller_name=call.caller_name,
            caller_phone=phone or (call.from_number if call.from_number.startswith("+")
                                   else ""),
            reason=label or _("Appel téléphonique"), message=text, urgent=urgent,
            caller_email=email, confidential=confidential)
        return
    if changed:
        inbox_services.conversation_add_note(
            actor=actor, conversation=call.conversation,
            body=_("Message de l'appel corrigé :") + "\n" + text, confidential=confidential)
    priority = Priority.URGENT if urgent else Priority.NORMAL
    if call.conversation.priority != priority:
        inbox_services.conversation_update(actor=actor, conversation=call.conversation,
                                           data={"priority": priority})


@transaction.atomic
def call_record_save(*, actor: User, call: Call, motif: str, answers: dict[str, Any],
                     message: str, urgency: str, caller_name: str, caller_phone: str = "",
                     caller_email: str = "", recording_consent: bool | None = None) -> Call:
    """Record (or correct) what the caller wanted; field errors for what is missing.
    `recording_consent`: whether the caller was told the call is recorded and agreed (None:
    left as it is)."""
    call = _lock(call)
    if call.account is None:
        raise DomainError("no_account", _("Cet appel n'est rattaché à aucun compte client : "
                                          "un superviseur doit d'abord l'attribuer."),
                          status=409)
    _check_actor(actor, call.account)
    version = call.consigne_version or selectors.consigne_current(call.account)
    motif, message = (motif or "").strip(), (message or "").strip()
    chosen, kept, phone = _validate(version=version, motif=motif, answers=answers,
                                    message=message, urgency=urgency,
                                    caller_phone=caller_phone)
    emergencies = selectors.triage_emergencies(version, kept)
    if emergencies or (chosen or {}).get("handling") == "urgent":
        urgency = Urgency.URGENT
    kept["emergency"] = bool(emergencies)
    # As the consignes wrote it; the default words are said when shown (selectors.call_guidance).
    kept["guidance"] = [str(t.get("guidance") or "") for t in emergencies]
    before = {"motif": call.motif, "message": call.message, "urgency": call.urgency,
              "recording_consent": call.recording_consent}
    if recording_consent is not None:
        call.recording_consent = recording_consent
    call.consigne_version = version
    call.motif, call.urgency = motif, urgency
    call.answers = protect_document(call.account, kept)
    call.message = protect_text(call.account, message)
    call.caller_name = (caller_name or "").strip()[:120] or call.caller_name
    if phone and not call.from_number.startswith("+"):
        call.from_number = phone
    _sync_conversation(actor=actor, call=call, label=str((chosen or {}).get("label") or motif),
                       phone=phone, email=(caller_email or "").strip(),
                       changed=before["message"] != message or before["motif"] != motif)
    call.save(update_fields=["consigne_version", "motif", "answers", "message", "urgency",
                             "caller_name", "from_number", "conversation",
                             "recording_consent"])
    changes: dict[str, Any] = {k: [v, getattr(call, k)] for k, v in before.items()
                               if getattr(call, k) != v}
    if "message" in changes and is_confidential(call.account):
        changes["message"] = "sealed"  # the audit log keeps no copy of an encrypted text
    audit_record(actor=actor, action=Action.UPDATE, target=call, account=call.account,
                 changes=changes or {"saved": True})
    return call


def _end_talk(c: Call, _current: str, _target: str, _actor: User | None, at: datetime) -> None:
    c.ended_at = at
    if c.answered_at is not None:
        c.talk_seconds = max(0, int((at - c.answered_at).total_seconds()))


def _end_wrapup(c: Call, _current: str, _target: str, _actor: User | None,
                at: datetime) -> None:
    c.wrapup_ended_at = at
    c.wrapup_seconds = max(0, int((at - (c.ended_at or at)).total_seconds()))


@transaction.atomic
def call_close(*, actor: User, call: Call) -> Call:
    """« Terminer »: the wrap-up ends now (409 when the call is not in a state to close)."""
    call = _lock(call)
    _check_actor(actor, call.account)
    now = clock.now()
    if call.manual and call.state in (CallState.ANSWERED, CallState.ON_HOLD):
        call = call_transition(call=call, to=CallState.WRAPUP, actor=actor, stamp=_end_talk,
                               now=now)
        if call.agent is not None:  # as a hang-up would: post-appel
            agent_follow_call(user=call.agent, call=call, ringing_or_talking=False, now=now)
    if call.state == CallState.ENDED:
        return call  # closed already (a double click)
    if call.state != CallState.WRAPUP:
        raise DomainError("bad_transition", _("L'appel est encore en cours : il se termine "
                                              "quand l'appelant raccroche."), status=409)
    call = call_transition(call=call, to=CallState.ENDED, actor=actor, stamp=_end_wrapup,
                           now=now)
    audit_record(actor=actor, action=Action.UPDATE, target=call, account=call.account,
                 changes={"state": [CallState.WRAPUP, CallState.ENDED],
                          "wrapup_seconds": call.wrapup_seconds})
    if call.agent is not None:
        agent_wrapup_done(call.agent, call)  # the agent is available again
    return call


@transaction.atomic
def call_mark_handled(*, user: User, call: Call, handled: bool = True) -> Call:
    """The client marks a message as dealt with (or not) in its espace client."""
    if call.account is None or not call.account.memberships.filter(user=user).exists():
        raise Forbidden()
    call = _lock(call)
    if (call.handled_at is not None) == handled:
        return call
    call.handled_at = clock.now() if handled else None
    call.handled_by = user if handled else None
    call.save(update_fields=["handled_at", "handled_by"])
    audit_record(actor=user, action=Action.UPDATE, target=call, account=call.account,
                 changes={"handled": [not handled, handled]})
    return call
