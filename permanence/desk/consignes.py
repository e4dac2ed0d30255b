"""Consignes (instructions) per client account: the reads the call screen and the forwarding
use, the services that write versions and confirm reading, and the greeting.

A version is a whole sheet (the JSON document described in `desk.models`, cleaned and diffed
by `desk.consignes_doc`); saving writes a new `ConsigneVersion` row, never updates one, so a
call keeps pointing at the version it applied.

Who is told (`consigne_recipients_for`): the notify rules matching the motif, the urgency and
the moment (inside or outside the account's business hours, from its business calendar); a
recipient absent that day is replaced by the replacement the absence names.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Count, Max, OuterRef, Q, QuerySet, Subquery
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from permanence.accounts.models import ClientAccount, Role, User
from permanence.accounts.selectors import accounts_visible_to
from permanence.audit.actions import Action
from permanence.audit.services import audit_record
from permanence.calendars.services import spec_for_account_cached
from permanence.core import clock
from permanence.core.business_time import CalendarSpec, is_open, open_intervals
from permanence.core.errors import DomainError, Forbidden, NotFound
from permanence.core.fields import SealedDict
from permanence.inbox.live import notifications_create

from .confidential import protect_document
from .consignes_doc import (
    ABOUT_KEYS,
    ABOUT_LABELS,
    ALL_MOTIFS,
    CHANNELS,
    Change,
    consigne_clean,
    consigne_content,
    consigne_diff,
    consigne_empty,
    diff_summary,
    escalation_text,
    fr_date,
    handling_label,
    rule_summary,
    triage_answer_label,
)
from .models import ConsigneRead, ConsigneVersion, Handling
from .permissions import can_edit_consignes, can_supervise_desk, can_take_calls

__all__ = ["Change", "consigne_clean", "consigne_content", "consigne_diff", "consigne_empty"]

_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")

# --- Greeting ---------------------------------------------------------------------------------

_DAY_NAMES = (gettext_lazy("lundi"), gettext_lazy("mardi"), gettext_lazy("mercredi"),
              gettext_lazy("jeudi"), gettext_lazy("vendredi"), gettext_lazy("samedi"),
              gettext_lazy("dimanche"))


def _spoken_time(t: time, *, is_end: bool = False) -> str:
    if is_end and t == time(0, 0):
        return _("minuit")
    return f"{t.hour} h" if t.minute == 0 else f"{t.hour} h {t.minute:02d}"


def _spoken_slots(slots: tuple[tuple[time, time], ...]) -> str:
    parts = [pgettext("opening hours", "de %(start)s à %(end)s")
             % {"start": _spoken_time(a), "end": _spoken_time(b, is_end=True)}
             for a, b in slots]
    return _and_list(parts)


def _and_list(parts: list[str]) -> str:
    """"a, b et c": the last two joined by a whole translatable pattern, not a bare « et »."""
    if len(parts) < 2:
        return "".join(parts)
    return pgettext("list of items: all but the last, then the last",
                    "%(items)s et %(last)s") % {"items": ", ".join(parts[:-1]),
                                                "last": parts[-1]}


def _closed_today(spec: CalendarSpec, at: datetime) -> str:
    """Why the account is closed the whole of `at`'s local day though its week opens that day
    (a closure, else a public holiday: nothing else empties an opening day); "" otherwise."""
    today = at.astimezone(spec.tz).date()
    if not spec.weekly[today.weekday()]:
        return ""  # an ordinary closed day: the weekly hours already say so
    day_start = datetime.combine(today, time(0), tzinfo=spec.tz)
    day_end = datetime.combine(today + timedelta(days=1), time(0), tzinfo=spec.tz)
    try:
        first_open = next(open_intervals(spec, day_start))[0]
    except (DomainError, StopIteration):
        first_open = None
    if first_open is not None and first_open < day_end:
        return ""
    messages = spec.closure_messages or ("",) * len(spec.closures)
    closure = next(((m or _("fermeture exceptionnelle")) for (a, b), m
                    in zip(spec.closures, messages, strict=False)
                    if a < day_end and b > day_start), None)
    return closure or _("jour férié")


def hours_text(account: ClientAccount, at: datetime | None = None) -> str:
    """The account's opening hours as a secretary says them: "du lundi au vendredi de 8 h à
    12 h 30 et de 13 h 30 à 19 h, le samedi de 8 h à 12 h" (from its business calendar),
    preceded by "fermé aujourd'hui (jour férié)" or the closure's reason when `at`'s day
    (now by default, in the calendar's zone) is a holiday or within a closure."""
    spec = spec_for_account_cached(account)
    usual = _weekly_text(spec.weekly)
    reason = _closed_today(spec, at or clock.now())
    if reason:
        return _("fermé aujourd'hui (%(reason)s) ; horaires habituels : %(hours)s") % {
            "reason": reason, "hours": usual}
    return usual


def _weekly_text(weekly: tuple[tuple[tuple[time, time], ...], ...]) -> str:
    groups: list[str] = []
    start = 0
    for i in range(1, 8):
        if i == 7 or weekly[i] != weekly[start]:
            if weekly[start]:
                days = (_("le %(day)s") % {"day": _DAY_NAMES[start]} if i - 1 == start
                        else _("du %(first)s au %(last)s") % {"first": _DAY_NAMES[start],
                                                              "last": _DAY_NAMES[i - 1]})
                groups.append(pgettext("opening hours: days, then their time ranges",
                                       "%(days)s %(hours)s")
                              % {"days": days, "hours": _spoken_slots(weekly[start])})
            start = i
    return ", ".join(groups) if groups else _("sur rendez-vous uniquement")


def consigne_open_now(account: ClientAccount, at: datetime | None = None) -> bool:
    """Inside the account's business hours at `at` (now by default)?"""
    return is_open(spec_for_account_cached(account), at or clock.now())


def consigne_render(account: ClientAccount, text: str, *, secretaire: str = "",
                    at: datetime | None = None) -> str:
    """`text` with {compte}, {horaires} and {secretaire} filled in; an unknown {placeholder}
    stays as written (never an error during a call)."""
    values = {"compte": account.name, "secretaire": secretaire or _("votre secrétaire")}
    if "{horaires}" in text:
        values["horaires"] = hours_text(account, at)
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def consigne_greeting(account: ClientAccount,
                      version: ConsigneVersion | Mapping[str, Any] | None, *,
                      secretaire: str = "", at: datetime | None = None) -> str:
    """The greeting script of `version` (a default one without), rendered for `account`."""
    greeting = consigne_content(version)["greeting"] or _(
        "{compte}, bonjour. {secretaire} à votre écoute.")
    return consigne_render(account, greeting, secretaire=secretaire, at=at)


def _absence_rows(doc: Mapping[str, Any], today: date) -> list[dict[str, Any]]:
    names = {r["key"]: r["name"] for r in doc["recipients"]}
    rows = []
    for a in doc["absences"]:
        start, end = str(a.get("start", "")), str(a.get("end", ""))
        rows.append({**a, "start_text": fr_date(start), "end_text": fr_date(end),
                     "who_name": names.get(a.get("who", ""), a.get("who", "")),
                     "replacement_name": names.get(a.get("replacement", ""),
                                                   a.get("replacement", "")),
                     "current": start <= today.isoformat() <= end,
                     "past": end < today.isoformat()})
    return rows


def consigne_sheet(account: ClientAccount, version: ConsigneVersion | None, *,
                   secretaire: str = "", at: datetime | None = None) -> dict[str, Any]:
    """Everything the sheet shows, ready for the template: the greeting and texts rendered,
    handling and rules in words, absences flagged as current or past."""
    at = at or clock.now()
    doc = consigne_content(version)
    hours = hours_text(account, at)
    about = []
    for key in ABOUT_KEYS:
        text = doc["about"].get(key, "")
        if text:  # empty hours: the calendar's, shown with the greeting
            about.append((ABOUT_LABELS[key],
                          consigne_render(account, text, secretaire=secretaire, at=at)))
    names = {r["key"]: r["name"] for r in doc["recipients"]}
    return {
        "version": version, "greeting": consigne_greeting(account, version,
                                                          secretaire=secretaire, at=at),
        "hours": hours, "open_now": consigne_open_now(account, at), "about": about,
        "motifs": [{**m, "handling_label": handling_label(m.get("handling", "")),
                    "urgent": m.get("handling") == Handling.URGENT} for m in doc["motifs"]],
        "recipients": doc["recipients"],
        "rules": [rule_summary(r, doc) for r in doc["notify"]],
        "escalation": escalation_text(doc),
        "escalation_names": [names.get(k, k) for k in doc["escalation"]["recipients"]],
        "vip": doc["vip"], "blocked": doc["blocked"],
        "triage": [{**t, "emergency_label": triage_answer_label(t["emergency"])}
                   for t in doc["triage"]],
        "absences": _absence_rows(doc, _local_date(account, at)),
        "notes": doc["notes"],
        "sealed": isinstance(version.content, SealedDict) if version else False,
    }


# --- Selectors --------------------------------------------------------------------------------


def consigne_current(account: ClientAccount | int) -> ConsigneVersion | None:
    """The version in force (the highest number), or None when the account has none yet."""
    account_id = account if isinstance(account, int) else account.pk
    return (ConsigneVersion.objects.filter(account_id=account_id)
            .select_related("author").order_by("-number").first())


def consigne_versions(account: ClientAccount | int) -> QuerySet[ConsigneVersion]:
    """Every version, newest first, with who wrote it."""
    account_id = account if isinstance(account, int) else account.pk
    return (ConsigneVersion.objects.filter(account_id=account_id)
            .select_related("author").order_by("-number"))


def consigne_summaries(account: ClientAccount,
                       versions: list[ConsigneVersion]) -> dict[int, str]:
    """Each version's summary by number: the one written when saved, else what it changed
    from the version before, in words. `versions`: consecutive, newest first (a page)."""
    if not versions:
        return {}
    previous = consigne_versions(account).filter(number=versions[-1].number - 1).first()
    chain = [*versions, previous]
    return {v.number: v.summary or diff_summary(consigne_diff(chain[i + 1], v))
            for i, v in enumerate(versions)}


def consigne_version(account: ClientAccount, number: Any) -> ConsigneVersion:
    try:
        return consigne_versions(account).get(number=int(number))
    except (ConsigneVersion.DoesNotExist, TypeError, ValueError):
        raise NotFound(_("Version des consignes introuvable.")) from None


def _assigned_agents(account: ClientAccount) -> QuerySet[User]:
    return account.assigned_agents.filter(is_active=True).exclude(role=Role.CLIENT)


def consigne_unread_by(account: ClientAccount) -> list[User]:
    """The active agents assigned to the account who have not confirmed the version in force
    (« J'ai lu ces consignes »); empty when there is no version."""
    current = consigne_current(account)
    if current is None:
        return []
    return list(_assigned_agents(account)
                .exclude(pk__in=ConsigneRead.objects.filter(version=current)
                         .values("user_id")).order_by("full_name", "email"))


def consigne_read_by(version: ConsigneVersion) -> list[ConsigneRead]:
    return list(version.reads.select_related("user").order_by("read_at"))


def consigne_has_read(user: User, version: ConsigneVersion | None) -> bool:
    return version is not None and version.reads.filter(user=user).exists()


def consigne_motif(version: ConsigneVersion | None, code: str) -> dict[str, Any] | None:
    """The motif of that code in the version (label, handling, transfer_to, info, questions,
    callback_minutes), or None."""
    if version is None or not code:
        return None
    return next((dict(m) for m in consigne_content(version)["motifs"]
                 if m.get("code") == code), None)


def consigne_motifs(version: ConsigneVersion | None) -> list[dict[str, Any]]:
    return [dict(m) for m in consigne_content(version)["motifs"]] if version is not None else []


def consigne_triage(version: ConsigneVersion | None) -> list[dict[str, str]]:
    """The urgency triage questions: [{"question", "emergency", "guidance"}] — an answer equal
    to `emergency` means: tell the caller `guidance` (e.g. « Appelez le 15 ») and escalate."""
    if version is None:
        return []
    return [{"question": str(t.get("question", "")), "emergency": str(t.get("emergency", "")),
             "guidance": str(t.get("guidance", ""))} for t in consigne_content(version)["triage"]]


def _local_date(account: ClientAccount, at: datetime) -> date:
    return at.astimezone(spec_for_account_cached(account).tz).date()


def consigne_absences_on(version: ConsigneVersion | None, day: date) -> list[dict[str, Any]]:
    """The absences covering `day` (inclusive bounds)."""
    if version is None:
        return []
    out = []
    for a in consigne_content(version)["absences"]:
        try:
            start, end = date.fromisoformat(a["start"]), date.fromisoformat(a["end"])
        except (KeyError, TypeError, ValueError):
            continue
        if start <= day <= end:
            out.append(dict(a))
    return out


def _rule_matches(rule: Mapping[str, Any], motif_code: str, urgent: bool, open_now: bool) -> bool:
    if rule.get("motif", ALL_MOTIFS) not in (ALL_MOTIFS, motif_code):
        return False
    urgency = rule.get("urgency", "any")
    if (urgency == "urgent" and not urgent) or (urgency == "normal" and urgent):
        return False
    when = rule.get("when", "always")
    return not ((when == "business" and not open_now) or (when == "outside" and open_now))


def _recipient_dict(r: Mapping[str, Any], channels: list[str]) -> dict[str, Any]:
    usable = [c for c in CHANNELS if c in channels
              and ((c == "email" and r.get("email")) or (c == "sms" and r.get("phone")))]
    return {"key": r["key"], "name": r.get("name", ""), "email": r.get("email", ""),
            "phone": r.get("phone", ""), "channels": usable, "replaces": "", "absence_note": ""}


def _with_absences(targets: dict[str, list[str]], doc: Mapping[str, Any],
                   absences: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Swap each absent recipient for their replacement (same channels), when the replacement
    is one of the recipients; otherwise the absent one stays (better late than nobody)."""
    by_key = {r["key"]: r for r in doc["recipients"]}
    out: dict[str, dict[str, Any]] = {}
    for key, channels in targets.items():
        absence = next((a for a in absences if a.get("who") == key), None)
        replacement = by_key.get(absence["replacement"]) if absence else None
        if absence and replacement is not None:
            entry = out.get(replacement["key"]) or _recipient_dict(replacement, [])
            wanted = sorted(set(entry["channels"]) | set(channels))
            merged = _recipient_dict(replacement, wanted)
            merged["replaces"] = by_key[key].get("name", key)
            merged["absence_note"] = absence.get("note", "")
            out[replacement["key"]] = merged
            continue
        entry = _recipient_dict(by_key[key], channels)
        if absence:
            entry["absence_note"] = absence.get("note", "") or _("absent(e)")
        if key in out:  # already there as someone's replacement: add the channels
            entry["channels"] = [c for c in CHANNELS
                                 if c in set(entry["channels"]) | set(out[key]["channels"])]
            entry["replaces"] = out[key]["replaces"]
        out[key] = entry
    return [r for r in out.values() if r["channels"]]


def consigne_recipients_for(version: ConsigneVersion | None, motif_code: str, urgent: bool,
                            at: datetime) -> list[dict[str, Any]]:
    """Who is told about a message for `motif_code`, and how, at `at`.

    The notify rules whose motif ("*" or the code), urgency ("any", "urgent", "normal") and
    moment ("always", or inside/outside the account's business hours at `at`) match; the
    channels of every matching rule add up per recipient. A motif handled as an urgent
    escalation counts as urgent. With no matching rule, every recipient is told by e-mail
    (a message is never left with nobody to tell). Absent recipients are replaced.

    Each item: {"key", "name", "email", "phone", "channels": ["email", "sms"] (only those
    with an address), "replaces": name of the absent recipient or "", "absence_note"}.
    """
    if version is None:
        return []
    doc = consigne_content(version)
    known = {r["key"] for r in doc["recipients"]}
    motif = consigne_motif(version, motif_code)
    urgent = urgent or bool(motif and motif.get("handling") == Handling.URGENT)
    open_now = consigne_open_now(version.account, at)
    targets: dict[str, list[str]] = {}
    for rule in doc["notify"]:
        if _rule_matches(rule, motif_code, urgent, open_now):
            for key in rule.get("recipients", []):
                if key in known:
                    targets[key] = sorted(set(targets.get(key, [])) | set(rule["channels"]))
    if not targets:
        targets = {r["key"]: ["email"] for r in doc["recipients"]}
    absences = consigne_absences_on(version, _local_date(version.account, at))
    return _with_absences(targets, doc, absences)


def consigne_escalation(version: ConsigneVersion | None,
                        at: datetime) -> tuple[int | None, list[dict[str, Any]]]:
    """The escalation of an urgent message nobody acknowledged: (delay in minutes, recipients
    with channels, absences applied); (None, []) when the consignes name none."""
    if version is None:
        return None, []
    doc = consigne_content(version)
    e = doc["escalation"]
    known = {r["key"] for r in doc["recipients"]}
    targets = {k: list(e["channels"]) for k in e["recipients"] if k in known}
    if not targets:
        return None, []
    absences = consigne_absences_on(version, _local_date(version.account, at))
    return e["delay_minutes"], _with_absences(targets, doc, absences)


def consigne_caller(version: ConsigneVersion | None, number: str) -> dict[str, Any]:
    """What the consignes say about a caller's number: {"vip": {...} | None,
    "blocked": bool}."""
    if version is None or not number:
        return {"vip": None, "blocked": False}
    doc = consigne_content(version)
    vip = next((dict(v) for v in doc["vip"] if v.get("number") == number), None)
    return {"vip": vip, "blocked": number in doc["blocked"]}


@dataclass(frozen=True)
class OverviewRow:
    account: ClientAccount
    number: int | None
    updated_at: datetime | None
    by_client: bool
    unread: int
    assigned: int
    has_read: bool


def consigne_accounts(user: User, *, q: str = "") -> list[OverviewRow]:
    """The accounts `user` may see with their version in force and, per account, how many
    assigned agents have not read it (supervisors' view) and whether `user` has."""
    latest = ConsigneVersion.objects.filter(account=OuterRef("pk")).order_by("-number")
    accounts = (accounts_visible_to(user).filter(is_operator=False)
                .annotate(cv_number=Max("consigne_versions__number"),
                          cv_id=Subquery(latest.values("pk")[:1]),
                          cv_at=Subquery(latest.values("created_at")[:1]),
                          cv_client=Subquery(latest.values("by_client")[:1]),
                          n_agents=Count("assigned_agents", distinct=True,
                                         filter=Q(assigned_agents__is_active=True)))
                .order_by("name"))
    if q.strip():
        accounts = accounts.filter(name__icontains=q.strip()[:100])
    rows = list(accounts[:500])
    version_ids = [a.cv_id for a in rows if a.cv_id]
    reads = ConsigneRead.objects.filter(version_id__in=version_ids)
    read_pairs = set(reads.values_list("version_id", "user_id"))
    assigned: dict[int, list[int]] = {}
    for account_id, agent_id in ClientAccount.assigned_agents.through.objects.filter(
            clientaccount_id__in=[a.pk for a in rows], user__is_active=True).values_list(
            "clientaccount_id", "user_id"):
        assigned.setdefault(account_id, []).append(agent_id)
    out = []
    for a in rows:
        agents = assigned.get(a.pk, [])
        unread = sum(1 for uid in agents if (a.cv_id, uid) not in read_pairs) if a.cv_id else 0
        out.append(OverviewRow(a, a.cv_number, a.cv_at, bool(a.cv_client), unread,
                               a.n_agents, (a.cv_id, user.pk) in read_pairs))
    return out


def get_consigne_account(user: User, pk: Any) -> ClientAccount:
    """The account whose consignes `user` may read: one they can see (404 otherwise)."""
    try:
        return accounts_visible_to(user).get(pk=pk)
    except (ClientAccount.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("Compte client introuvable.")) from None


# --- Services ---------------------------------------------------------------------------------


def _check_editor(actor: User, account: ClientAccount) -> ClientAccount:
    if not can_edit_consignes(actor):
        raise Forbidden(_("Vous ne pouvez pas modifier ces consignes."))
    return get_consigne_account(actor, account.pk)


def _notify_change(actor: User, account: ClientAccount, version: ConsigneVersion) -> None:
    """The agents assigned to the account must read the new version: a bell notification
    (the client's change also tells the supervisors)."""
    users = list(_assigned_agents(account).exclude(pk=actor.pk))
    if version.by_client:
        text = _("%(account)s a modifié ses consignes (version %(n)s) : à lire.") % {
            "account": account.name, "n": version.number}
        users += [u for u in User.objects.filter(role__in=[Role.SUPERVISOR], is_active=True)
                  if u not in users]
    else:
        text = _("Nouvelles consignes pour %(account)s (version %(n)s) : à lire.") % {
            "account": account.name, "n": version.number}
    if users:
        notifications_create(users, kind="consignes", text=text,
                             link=reverse("desk:consignes_detail", args=[account.pk]),
                             now=version.created_at)


@transaction.atomic
def consigne_save(*, actor: User, account: ClientAccount, content: Any,
                  summary: str = "") -> ConsigneVersion:
    """Save the consignes as a new version (who, when, a summary of what changed), unless the
    content equals the version in force (then that version is returned, nothing written).

    Staff who answer and the account's client users may write; the assigned agents are told
    (a client's change also tells the supervisors); the author, when staff, has read it."""
    account = _check_editor(actor, account)
    cleaned = consigne_clean(content)
    # The account row serialises two saves racing for the same version number.
    ClientAccount.objects.select_for_update().filter(pk=account.pk).first()
    current = consigne_current(account)
    if current is not None and consigne_content(current) == cleaned:
        return current
    # Only a summary someone wrote is stored: the one made from the diff is words of the
    # reader's language, so it is made when shown (consigne_summaries).
    summary = (summary or "").strip()[:500]
    now = clock.now()
    version = ConsigneVersion.objects.create(
        account=account, number=(current.number + 1) if current else 1,
        content=protect_document(account, cleaned, marked=cleaned["confidential"]),
        summary=summary, author=actor, by_client=actor.is_client, created_at=now)
    audit_record(actor=actor, action=Action.CREATE, target=version, account=account,
                 changes={"version": version.number, "summary": summary,
                          "by_client": version.by_client})
    if not actor.is_client:
        ConsigneRead.objects.create(version=version, user=actor, read_at=now)
    _notify_change(actor, account, version)
    return version


@transaction.atomic
def consigne_mark_read(*, user: User, version: ConsigneVersion) -> ConsigneRead:
    """« J'ai lu ces consignes »: staff confirm the version in force (idempotent)."""
    if not can_take_calls(user):
        raise Forbidden(_("Seules les personnes qui prennent les appels confirment la "
                          "lecture des consignes."))
    get_consigne_account(user, version.account_id)
    current = consigne_current(version.account_id)
    if current is None or current.pk != version.pk:
        raise DomainError("superseded", _("Une version plus récente des consignes est en "
                                          "vigueur : lisez-la."), status=409)
    read, created = ConsigneRead.objects.get_or_create(
        version=version, user=user, defaults={"read_at": clock.now()})
    if created:
        audit_record(actor=user, action=Action.CREATE, target=read, account=version.account,
                     changes={"version": version.number})
    return read


def can_see_unread(user: User) -> bool:
    """Supervisors see who has not read the consignes."""
    return can_supervise_desk(user)
