"""The consignes document (`ConsigneVersion.content`): its canonical shape, cleaning with
field errors and the readable diff between two versions. Pure functions over the JSON
document; the reads and writes that use them live in `desk.consignes`.

Cleaning fills every key (an old or partial document reads like a full one) and returns field
errors named after the path in the document: "motifs.2.label", "recipients.0.email",
"notify.1.channels"... (the forms map them back to their inputs)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from permanence.core.errors import invalid_fields
from permanence.core.field_errors import FieldErrors
from permanence.core.validators import normalise_phone, phone_display

from .models import ConsigneVersion, Handling

# --- The document ---------------------------------------------------------------------------

ABOUT_KEYS = ("address", "hours", "services", "prices", "access", "other")
ABOUT_LABELS = {
    "address": gettext_lazy("Adresse"), "hours": gettext_lazy("Horaires à annoncer"),
    "services": gettext_lazy("Services"), "prices": gettext_lazy("Tarifs communicables"),
    "access": gettext_lazy("Accès, parking"), "other": gettext_lazy("Autres informations"),
}
CHANNELS = ("email", "sms")
CHANNEL_LABELS = {"email": gettext_lazy("E-mail"), "sms": gettext_lazy("SMS")}
URGENCIES = ("any", "urgent", "normal")
URGENCY_LABELS = {"any": gettext_lazy("Toute urgence"), "urgent": gettext_lazy("Urgent"),
                  "normal": gettext_lazy("Non urgent")}
WHENS = ("always", "business", "outside")
WHEN_LABELS = {"always": gettext_lazy("À toute heure"),
               "business": gettext_lazy("Heures d'ouverture"),
               "outside": gettext_lazy("Hors heures d'ouverture")}
ALL_MOTIFS = "*"
# Triage answers are stored as keys, not words: "yes"/"no" read in any language. Versions
# and calls saved before stored the French words, which `triage_answer_key` still reads.
YES, NO = "yes", "no"
_YES_WORDS = frozenset({"yes", "oui"})
_NO_WORDS = frozenset({"no", "non"})
PLACEHOLDERS = ("compte", "horaires", "secretaire")

# Bounds: a sheet a secretary reads during a call, not a book.
MAX_TEXT = 2000
MAX_LINE = 200
MAX_ITEMS = {"motifs": 40, "recipients": 30, "notify": 60, "vip": 200, "blocked": 500,
             "triage": 30, "absences": 60}
MAX_QUESTIONS = 15
MAX_CALLBACK_MINUTES = 7 * 24 * 60
MAX_ESCALATION_MINUTES = 24 * 60
# Emergency and short service numbers (15, 17, 18, 112, 114, 115, 119, 3631…) are dialled as
# they are: phonenumbers does not call them valid numbers.
SHORT_NUMBER = re.compile(r"^\d{2,4}$")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


def consigne_empty() -> dict[str, Any]:
    """A blank sheet with every key (what a new account starts from)."""
    return {"greeting": "", "about": dict.fromkeys(ABOUT_KEYS, ""), "motifs": [],
            "recipients": [], "notify": [],
            "escalation": {"delay_minutes": None, "recipients": [], "channels": []},
            "vip": [], "blocked": [], "triage": [], "absences": [], "notes": "",
            "confidential": False}


def _text(value: Any, limit: int, name: str, errors: FieldErrors, *,
          required: bool = False) -> str:
    text = value.strip() if isinstance(value, str) else ("" if value is None else str(value))
    text = text.replace("\r\n", "\n")
    if required and not text:
        errors.add(name, _("Ce champ est obligatoire."))
    elif len(text) > limit:
        errors.add(name, ngettext("%(max)s caractère au plus.", "%(max)s caractères au plus.",
                                 limit) % {"max": limit})
    return text


def _list(value: Any, name: str, errors: FieldErrors) -> list[Any]:
    if value is None or value == "":
        return []
    if not isinstance(value, list | tuple):
        errors.add(name, _("Une liste est attendue."))
        return []
    limit = MAX_ITEMS.get(name)
    if limit is not None and len(value) > limit:
        errors.add(name, ngettext("%(max)s élément au plus.", "%(max)s éléments au plus.",
                                 limit) % {"max": limit})
        return list(value[:limit])
    return list(value)


def _dict(value: Any, name: str, errors: FieldErrors) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        errors.add(name, _("Un objet est attendu."))
        return {}
    return dict(value)


def _phone(value: Any, name: str, errors: FieldErrors, *, short_ok: bool = False,
           required: bool = False) -> str:
    text = _text(value, 40, name, errors, required=required)
    if not text:
        return ""
    compact = re.sub(r"[\s.\-]", "", text)
    if short_ok and SHORT_NUMBER.match(compact):
        return compact
    try:
        return normalise_phone(text)
    except ValidationError as exc:
        errors.add(name, str(exc.messages[0]))
        return text


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _email(value: Any, name: str, errors: FieldErrors) -> str:
    text = _text(value, 254, name, errors).lower()
    if text and not _EMAIL.match(text):
        errors.add(name, _("Adresse e-mail invalide."))
    return text


def _int(value: Any, name: str, errors: FieldErrors, *, low: int, high: int) -> int | None:
    if value is None or value == "":
        return None
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        errors.add(name, _("Un nombre entier est attendu."))
        return None
    if not low <= number <= high:
        errors.add(name, _("Entre %(low)s et %(high)s.") % {"low": low, "high": high})
        return None
    return number


def _choice(value: Any, choices: Iterable[str], default: str, name: str,
            errors: FieldErrors) -> str:
    text = (value or default) if isinstance(value, str) or value is None else str(value)
    if text not in choices:
        errors.add(name, _("Choix invalide."))
        return default
    return text


def _choices(value: Any, choices: Iterable[str], name: str, errors: FieldErrors) -> list[str]:
    allowed = tuple(choices)
    items = [value] if isinstance(value, str) else _list(value, name, errors)
    out: list[str] = []
    for item in items:
        if item in ("", None):
            continue
        if item not in allowed:
            errors.add(name, _("Choix invalide : %(value)s.") % {"value": str(item)[:40]})
        elif item not in out:
            out.append(item)
    return out


def _key(value: Any, fallback: str, name: str, errors: FieldErrors) -> str:
    """A short identifier (motif code, recipient key): given, or made from the label."""
    text = _text(value, 40, name, errors)
    key = slugify(text or fallback)[:40]
    if text and key != text:
        key = slugify(text)[:40]
    return key


def _clean_greeting(value: Any, errors: FieldErrors) -> str:
    greeting = _text(value, MAX_TEXT, "greeting", errors)
    unknown = sorted({m for m in _PLACEHOLDER.findall(greeting) if m not in PLACEHOLDERS})
    if unknown:
        errors.add("greeting", _("Variable inconnue : %(names)s. Utilisez {compte}, "
                                 "{horaires} ou {secretaire}.")
                   % {"names": ", ".join("{" + u + "}" for u in unknown)})
    return greeting


def _clean_about(value: Any, errors: FieldErrors) -> dict[str, str]:
    about = _dict(value, "about", errors)
    return {k: _text(about.get(k), MAX_TEXT, f"about.{k}", errors) for k in ABOUT_KEYS}


def _clean_motif(raw: Any, i: int, errors: FieldErrors) -> dict[str, Any] | None:
    name = f"motifs.{i}"
    item = _dict(raw, name, errors)
    label = _text(item.get("label"), 120, f"{name}.label", errors)
    if not label and not any(item.get(k) for k in ("code", "info", "transfer_to", "questions")):
        return None  # an empty row of the form
    if not label:
        errors.add(f"{name}.label", _("Donnez un intitulé au motif."))
    handling = _choice(item.get("handling"), Handling.values, Handling.MESSAGE,
                       f"{name}.handling", errors)
    transfer_to = _phone(item.get("transfer_to"), f"{name}.transfer_to", errors, short_ok=True)
    if handling == Handling.TRANSFER and not transfer_to:
        errors.add(f"{name}.transfer_to", _("Indiquez le numéro vers lequel transférer."))
    questions_raw = item.get("questions")
    if isinstance(questions_raw, str):
        questions_raw = questions_raw.splitlines()
    questions = [q for q in (_text(q, MAX_LINE, f"{name}.questions", errors)
                             for q in _list(questions_raw, f"{name}.questions", errors)) if q]
    if len(questions) > MAX_QUESTIONS:
        errors.add(f"{name}.questions", ngettext(
            "%(max)s question au plus.", "%(max)s questions au plus.", MAX_QUESTIONS)
                   % {"max": MAX_QUESTIONS})
    return {
        "code": _key(item.get("code"), label, f"{name}.code", errors),
        "label": label, "handling": handling, "transfer_to": transfer_to,
        "info": _text(item.get("info"), MAX_TEXT, f"{name}.info", errors),
        "questions": questions[:MAX_QUESTIONS],
        "callback_minutes": _int(item.get("callback_minutes"), f"{name}.callback_minutes",
                                 errors, low=1, high=MAX_CALLBACK_MINUTES),
    }


def _clean_recipient(raw: Any, i: int, errors: FieldErrors) -> dict[str, Any] | None:
    name = f"recipients.{i}"
    item = _dict(raw, name, errors)
    label = _text(item.get("name"), 120, f"{name}.name", errors)
    email = _email(item.get("email"), f"{name}.email", errors)
    phone = _phone(item.get("phone"), f"{name}.phone", errors)
    if not (label or email or phone):
        return None
    if not label:
        errors.add(f"{name}.name", _("Indiquez le nom du destinataire."))
    if not (email or phone):
        errors.add(f"{name}.email", _("Indiquez un e-mail ou un téléphone."))
    return {"key": _key(item.get("key"), label or email or phone, f"{name}.key", errors),
            "name": label, "email": email, "phone": phone,
            "role": _text(item.get("role"), 120, f"{name}.role", errors)}


def _unique(items: list[dict[str, Any]], field: str, section: str, errors: FieldErrors,
            message: str) -> None:
    seen: set[str] = set()
    for i, item in enumerate(items):
        if item[field] in seen:
            errors.add(f"{section}.{i}.{field}", message)
        seen.add(item[field])


def _resolve(value: Any, recipients: list[dict[str, Any]]) -> str:
    """A recipient's key from its key or its name (case-insensitive); else the text as is."""
    text = (value or "").strip() if isinstance(value, str) else ""
    low = text.casefold()
    for r in recipients:
        if low in (r["key"].casefold(), r["name"].casefold()):
            return str(r["key"])
    return text


def _recipient_keys(value: Any, recipients: list[dict[str, Any]], name: str,
                    errors: FieldErrors) -> list[str]:
    known = {r["key"] for r in recipients}
    out: list[str] = []
    items = [value] if isinstance(value, str) else _list(value, name, errors)
    for item in items:
        key = _resolve(item, recipients)
        if not key:
            continue
        if key not in known:
            errors.add(name, _("Destinataire inconnu : %(key)s.") % {"key": key[:60]})
        elif key not in out:
            out.append(key)
    return out


def _check_reachable(keys: list[str], channels: list[str], recipients: list[dict[str, Any]],
                     name: str, errors: FieldErrors) -> None:
    by_key = {r["key"]: r for r in recipients}
    for key in keys:
        r = by_key[key]
        if "sms" in channels and not r["phone"]:
            errors.add(name, _("%(name)s n'a pas de numéro pour les SMS.") % {"name": r["name"]})
        if "email" in channels and not r["email"]:
            errors.add(name, _("%(name)s n'a pas d'adresse e-mail.") % {"name": r["name"]})


def _clean_rule(raw: Any, i: int, motif_codes: set[str], recipients: list[dict[str, Any]],
                errors: FieldErrors) -> dict[str, Any] | None:
    name = f"notify.{i}"
    item = _dict(raw, name, errors)
    if not item.get("recipients") and not item.get("channels"):
        return None
    motif = (item.get("motif") or ALL_MOTIFS) if isinstance(item.get("motif"), str | None) \
        else str(item.get("motif"))
    if motif != ALL_MOTIFS and motif not in motif_codes:
        errors.add(f"{name}.motif", _("Motif inconnu : %(code)s.") % {"code": motif[:40]})
    keys = _recipient_keys(item.get("recipients"), recipients, f"{name}.recipients", errors)
    if not keys:
        errors.add(f"{name}.recipients", _("Choisissez au moins un destinataire."))
    channels = _choices(item.get("channels"), CHANNELS, f"{name}.channels", errors)
    if not channels:
        errors.add(f"{name}.channels", _("Choisissez l'e-mail, le SMS ou les deux."))
    _check_reachable(keys, channels, recipients, f"{name}.channels", errors)
    return {"motif": motif,
            "urgency": _choice(item.get("urgency"), URGENCIES, "any", f"{name}.urgency", errors),
            "when": _choice(item.get("when"), WHENS, "always", f"{name}.when", errors),
            "recipients": keys, "channels": channels}


def _clean_escalation(raw: Any, recipients: list[dict[str, Any]],
                      errors: FieldErrors) -> dict[str, Any]:
    item = _dict(raw, "escalation", errors)
    delay = _int(item.get("delay_minutes"), "escalation.delay_minutes", errors, low=1,
                 high=MAX_ESCALATION_MINUTES)
    keys = _recipient_keys(item.get("recipients"), recipients, "escalation.recipients", errors)
    channels = _choices(item.get("channels"), CHANNELS, "escalation.channels", errors)
    if keys and delay is None and "escalation.delay_minutes" not in errors.fields:
        errors.add("escalation.delay_minutes", _("Indiquez le délai avant l'escalade."))
    if keys and not channels:
        errors.add("escalation.channels", _("Choisissez l'e-mail, le SMS ou les deux."))
    _check_reachable(keys, channels, recipients, "escalation.channels", errors)
    return {"delay_minutes": delay, "recipients": keys, "channels": channels}


def _clean_vip(raw: Any, i: int, errors: FieldErrors) -> dict[str, Any] | None:
    name = f"vip.{i}"
    item = _dict(raw, name, errors)
    if not any(item.get(k) for k in ("number", "name", "note")):
        return None
    return {"number": _phone(item.get("number"), f"{name}.number", errors, required=True),
            "name": _text(item.get("name"), 120, f"{name}.name", errors),
            "note": _text(item.get("note"), MAX_LINE, f"{name}.note", errors)}


def triage_answer_key(value: Any) -> str:
    """A triage answer as stored: YES or NO for the usual answers (in any language, the
    French words of older versions included), otherwise the text as written."""
    text = str(value or "").strip()
    low = text.casefold()
    if low in _YES_WORDS or low == _("oui").casefold():
        return YES
    if low in _NO_WORDS or low == _("non").casefold():
        return NO
    return text


def triage_emergency_key(value: Any) -> str:
    """The answer that signals the emergency: YES when none is given."""
    return triage_answer_key(value) or YES


def triage_answer_label(value: Any) -> str:
    """A stored triage answer in the reader's language."""
    key = triage_answer_key(value)
    return {YES: _("oui"), NO: _("non")}.get(key, key)


def _clean_triage(raw: Any, i: int, errors: FieldErrors) -> dict[str, Any] | None:
    name = f"triage.{i}"
    item = _dict(raw, name, errors)
    if not any(item.get(k) for k in ("question", "emergency", "guidance")):
        return None
    return {"question": _text(item.get("question"), MAX_LINE, f"{name}.question", errors,
                              required=True),
            "emergency": triage_emergency_key(
                _text(item.get("emergency"), MAX_LINE, f"{name}.emergency", errors)),
            "guidance": _text(item.get("guidance"), MAX_LINE, f"{name}.guidance", errors,
                              required=True)}


def _date(value: Any, name: str, errors: FieldErrors) -> str:
    text = _text(value, 10, name, errors, required=True)
    if not text:
        return ""
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        errors.add(name, _("Date invalide (AAAA-MM-JJ)."))
        return text


def _clean_absence(raw: Any, i: int, recipients: list[dict[str, Any]],
                   errors: FieldErrors) -> dict[str, Any] | None:
    name = f"absences.{i}"
    item = _dict(raw, name, errors)
    if not any(item.get(k) for k in ("start", "end", "who", "replacement", "note")):
        return None
    start = _date(item.get("start"), f"{name}.start", errors)
    end = _date(item.get("end"), f"{name}.end", errors)
    if start and end and f"{name}.start" not in errors.fields and \
            f"{name}.end" not in errors.fields and end < start:
        errors.add(f"{name}.end", _("La fin précède le début."))
    who = _text(item.get("who"), 120, f"{name}.who", errors, required=True)
    return {"start": start, "end": end, "who": _resolve(who, recipients),
            "replacement": _resolve(_text(item.get("replacement"), MAX_LINE,
                                          f"{name}.replacement", errors), recipients),
            "note": _text(item.get("note"), MAX_LINE, f"{name}.note", errors)}


def _rows(value: Any, section: str, errors: FieldErrors,
          clean: Callable[[Any, int], dict[str, Any] | None]) -> list[dict[str, Any]]:
    """Clean each row of a repeated section; empty rows (a blank line of the form) drop out.
    Errors keep the row's position in the input, which is the form's row number."""
    out = []
    for i, raw in enumerate(_list(value, section, errors)):
        row = clean(raw, i)
        if row is not None:
            out.append(row)
    return out


def _clean_blocked(value: Any, errors: FieldErrors) -> list[str]:
    if isinstance(value, str):
        value = [line for line in value.splitlines() if line.strip()]
    out: list[str] = []
    for i, raw in enumerate(_list(value, "blocked", errors)):
        number = _phone(raw, f"blocked.{i}", errors)
        if number and number not in out:
            out.append(number)
    return out


def _flag(value: Any, name: str, errors: FieldErrors) -> bool:
    if value is None or isinstance(value, bool):
        return bool(value)
    errors.add(name, _("Vrai ou faux attendu."))
    return False


def consigne_clean(content: Any) -> dict[str, Any]:
    """The document in its canonical shape, or DomainError(422) with every field error."""
    errors = FieldErrors()
    data = _dict(content, "__all__", errors)
    motifs = _rows(data.get("motifs"), "motifs", errors,
                   lambda raw, i: _clean_motif(raw, i, errors))
    _unique(motifs, "code", "motifs", errors, _("Deux motifs ont le même code."))
    recipients = _rows(data.get("recipients"), "recipients", errors,
                       lambda raw, i: _clean_recipient(raw, i, errors))
    _unique(recipients, "key", "recipients", errors, _("Deux destinataires ont le même nom."))
    codes = {m["code"] for m in motifs}
    cleaned = {
        "greeting": _clean_greeting(data.get("greeting"), errors),
        "about": _clean_about(data.get("about"), errors),
        "motifs": motifs,
        "recipients": recipients,
        "notify": _rows(data.get("notify"), "notify", errors,
                        lambda raw, i: _clean_rule(raw, i, codes, recipients, errors)),
        "escalation": _clean_escalation(data.get("escalation"), recipients, errors),
        "vip": _rows(data.get("vip"), "vip", errors, lambda raw, i: _clean_vip(raw, i, errors)),
        "blocked": _clean_blocked(data.get("blocked"), errors),
        "triage": _rows(data.get("triage"), "triage", errors,
                        lambda raw, i: _clean_triage(raw, i, errors)),
        "absences": _rows(data.get("absences"), "absences", errors,
                          lambda raw, i: _clean_absence(raw, i, recipients, errors)),
        "notes": _text(data.get("notes"), 4 * MAX_TEXT, "notes", errors),
        "confidential": _flag(data.get("confidential"), "confidential", errors),
    }
    if errors:
        raise invalid_fields(errors.fields)
    return cleaned


def consigne_content(
        version_or_content: ConsigneVersion | Mapping[str, Any] | None) -> dict[str, Any]:
    """A version's document with every key, tolerant of older or partial documents."""
    raw = (version_or_content.content if isinstance(version_or_content, ConsigneVersion)
           else version_or_content) or {}
    full = consigne_empty()
    for key, value in raw.items():
        if key in full and isinstance(value, type(full[key])):
            full[key] = value
    full["about"] = {**dict.fromkeys(ABOUT_KEYS, ""), **full["about"]}
    full["escalation"] = {**consigne_empty()["escalation"], **full["escalation"]}
    # Older versions stored the emergency answer as a French word ("oui"): read it as the key
    # (copies: the version's own content stays as stored).
    full["triage"] = [{**t, "emergency": triage_emergency_key(t.get("emergency"))}
                      if isinstance(t, Mapping) else t for t in full["triage"]]
    return full


# --- Diff -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One line of the readable diff: « Motif « Urgence » : modifié »."""

    section: str
    kind: str  # added, removed, changed
    label: str
    before: str = ""
    after: str = ""

    @property
    def kind_label(self) -> str:
        return {"added": _("ajouté"), "removed": _("supprimé"),
                "changed": _("modifié")}[self.kind]


SECTION_LABELS = {
    "greeting": gettext_lazy("Accueil"), "about": gettext_lazy("Informations"),
    "motifs": gettext_lazy("Motifs d'appel"), "recipients": gettext_lazy("Destinataires"),
    "notify": gettext_lazy("Qui prévenir"), "escalation": gettext_lazy("Escalade"),
    "vip": gettext_lazy("Appelants VIP"), "blocked": gettext_lazy("Numéros bloqués"),
    "triage": gettext_lazy("Tri des urgences"), "absences": gettext_lazy("Absences"),
    "notes": gettext_lazy("Notes"), "confidential": gettext_lazy("Confidentialité"),
}


def _names(keys: Iterable[str], recipients: list[dict[str, Any]]) -> str:
    by_key = {r["key"]: r["name"] for r in recipients}
    return ", ".join(by_key.get(k, k) for k in keys)


def _channels_text(channels: Iterable[str]) -> str:
    # In a sentence: « par e-mail + SMS ».
    words = {"email": _("e-mail"), "sms": _("SMS")}
    return " + ".join(words.get(c, c) for c in channels)


def fr_date(value: str) -> str:
    """"2026-12-21" → "21/12/2026" (as written when it is not a date)."""
    try:
        return date.fromisoformat(value).strftime("%d/%m/%Y")
    except (TypeError, ValueError):
        return value


def handling_label(value: str) -> str:
    try:
        return str(Handling(value).label)
    except ValueError:
        return value


def motif_summary(m: Mapping[str, Any]) -> str:
    parts = [f"{m.get('label', '')} — {handling_label(m.get('handling', ''))}"]
    if m.get("transfer_to"):
        parts.append(_("vers %(n)s") % {"n": phone_display(m["transfer_to"])})
    if m.get("questions"):
        parts.append(_("questions : %(q)s") % {"q": " / ".join(m["questions"])})
    if m.get("callback_minutes"):
        parts.append(_("rappel sous %(n)s min") % {"n": m["callback_minutes"]})
    if m.get("info"):
        parts.append(m["info"])
    return " ; ".join(parts)


def rule_summary(rule: Mapping[str, Any], doc: Mapping[str, Any]) -> str:
    motif = _("tous les motifs") if rule.get("motif") == ALL_MOTIFS else next(
        (m["label"] for m in doc["motifs"] if m["code"] == rule.get("motif")), rule.get("motif"))
    return _("%(motif)s, %(urgency)s, %(when)s → %(who)s par %(channels)s") % {
        "motif": motif, "urgency": str(URGENCY_LABELS.get(rule.get("urgency", ""), "")).lower(),
        "when": str(WHEN_LABELS.get(rule.get("when", ""), "")).lower(),
        "who": _names(rule.get("recipients", []), doc["recipients"]),
        "channels": _channels_text(rule.get("channels", []))}


def _item_text(section: str, item: Any, doc: Mapping[str, Any]) -> str:
    if section == "motifs":
        return motif_summary(item)
    if section == "recipients":
        return " · ".join(x for x in (item["name"], item.get("role", ""), item["email"],
                                      phone_display(item["phone"])) if x)
    if section == "notify":
        return rule_summary(item, doc)
    if section == "vip":
        return " · ".join(x for x in (phone_display(item["number"]), item["name"], item["note"])
                          if x)
    if section == "triage":
        return f"{item['question']} ({triage_answer_label(item['emergency'])}) → {item['guidance']}"
    if section == "absences":
        who = _names([item["who"]], doc["recipients"])
        repl = _names([item["replacement"]], doc["recipients"]) if item["replacement"] else ""
        when = f"{fr_date(item['start'])} → {fr_date(item['end'])}"
        return " ".join(x for x in (f"{who} : {when}",
                                    _("remplacé(e) par %(r)s") % {"r": repl} if repl else "",
                                    item.get("note", "")) if x)
    return phone_display(item) if section == "blocked" else str(item)


def _item_id(section: str, item: Any) -> str:
    if section == "motifs":
        return str(item["code"])
    if section == "recipients":
        return str(item["key"])
    if section == "vip":
        return str(item["number"])
    if section == "blocked":
        return str(item)
    if section == "triage":
        return str(item["question"])
    return ""  # notify rules, absences: by their whole text


def _diff_list(section: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    label = str(SECTION_LABELS[section])
    before = {(_item_id(section, i) or _item_text(section, i, old)): i for i in old[section]}
    after = {(_item_id(section, i) or _item_text(section, i, new)): i for i in new[section]}
    changes = []
    for key, item in after.items():
        text = _item_text(section, item, new)
        if key not in before:
            changes.append(Change(label, "added", text, after=text))
        elif before[key] != item:
            old_text = _item_text(section, before[key], old)
            changes.append(Change(label, "changed", _first(old_text, text), old_text, text))
    changes += [Change(label, "removed", _item_text(section, item, old),
                       before=_item_text(section, item, old))
                for key, item in before.items() if key not in after]
    return changes


def _first(a: str, b: str) -> str:
    """What names the item in a "changed" line: its label part (before the first " — ")."""
    return b.split(" — ", maxsplit=1)[0].split(" · ", maxsplit=1)[0] or a


def escalation_text(doc: Mapping[str, Any]) -> str:
    e = doc["escalation"]
    if not e["recipients"]:
        return ""
    return _("sans lecture après %(delay)s min → %(who)s par %(channels)s") % {
        "delay": e["delay_minutes"], "who": _names(e["recipients"], doc["recipients"]),
        "channels": _channels_text(e["channels"])}


def consigne_diff(old: ConsigneVersion | Mapping[str, Any] | None,
                  new: ConsigneVersion | Mapping[str, Any]) -> list[Change]:
    """What changed from `old` to `new`, section by section, in words ("Motif ajouté : …")."""
    a, b = consigne_content(old), consigne_content(new)
    changes: list[Change] = []
    for section in ("greeting", "notes"):
        if a[section] != b[section]:
            changes.append(Change(str(SECTION_LABELS[section]), _kind(a[section], b[section]),
                                  str(SECTION_LABELS[section]), a[section], b[section]))
    for key in ABOUT_KEYS:
        before, after = a["about"].get(key, ""), b["about"].get(key, "")
        if before != after:
            changes.append(Change(str(SECTION_LABELS["about"]), _kind(before, after),
                                  str(ABOUT_LABELS[key]), before, after))
    for section in ("motifs", "recipients", "notify", "triage", "vip", "blocked", "absences"):
        changes += _diff_list(section, a, b)
    if a["confidential"] != b["confidential"]:
        label = str(SECTION_LABELS["confidential"])
        words = {True: _("confidentielles (chiffrées)"), False: _("ordinaires")}
        changes.append(Change(label, "changed", label, words[a["confidential"]],
                              words[b["confidential"]]))
    before, after = escalation_text(a), escalation_text(b)
    if before != after:
        changes.append(Change(str(SECTION_LABELS["escalation"]), _kind(before, after),
                              str(SECTION_LABELS["escalation"]), before, after))
    return changes


def _kind(before: str, after: str) -> str:
    return "added" if not before else "removed" if not after else "changed"


def diff_summary(changes: list[Change], limit: int = 500) -> str:
    """One line for the history, counted by section: « Motifs d'appel : 1 ajout,
    1 modification ; Accueil : 1 modification » (the details are in the diff)."""
    if not changes:
        return _("Aucune modification")
    counts: dict[str, dict[str, int]] = {}
    for c in changes:
        per = counts.setdefault(c.section, {"added": 0, "changed": 0, "removed": 0})
        per[c.kind] += 1
    parts = []
    for section, per in counts.items():
        words = [w for w in (
            ngettext("%(n)s ajout", "%(n)s ajouts", per["added"]) % {"n": per["added"]}
            if per["added"] else "",
            ngettext("%(n)s modification", "%(n)s modifications", per["changed"])
            % {"n": per["changed"]} if per["changed"] else "",
            ngettext("%(n)s suppression", "%(n)s suppressions", per["removed"])
            % {"n": per["removed"]} if per["removed"] else "") if w]
        parts.append(f"{section} : {', '.join(words)}")
    text = " ; ".join(parts)
    return text if len(text) <= limit else text[: limit - 1] + "…"
