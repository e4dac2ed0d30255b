"""The audit log read by people: model names, field labels and values in French.

An event stores what the services wrote (`shop.order`, `{"total_ttc_cents": 12960}`,
`{"status": ["payee", "validee"]}`); this module turns it into « Commande »,
« Total TTC : 129,60 € », « Statut : Payée → Validée », with times in the display time zone.

The kernel imports no app: names come from Django's app registry (the models' verbose names,
the fields' verbose names and choices), and a small registry covers what a model cannot say —
keys that are not fields (`merged`, `refund_requested`) and how a kind of value is written
(amounts in cents, instants, yes/no). An app may add its own words with `register_label()`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import formats, timezone
from django.utils.functional import Promise
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from permanence.core.money import format_eur

ARROW = " → "
EMPTY = "—"

# Keys services write that are not model fields, or fields whose verbose name is the bare
# column name. Generic words only: the kernel knows no app.
LABELS: dict[str, str | Promise] = {
    "account": _("Compte client"),
    "added": _("ajoutés"),
    "allow_private": _("Adresses privées autorisées"),
    "amount_cents": _("Montant"),
    "assigned_agents": _("Télésecrétaires affectés"),
    "assignee": _("Attribué à"),
    "channel": _("Canal"),
    "checked_at": _("Vérifiée le"),
    "consent_text": _("Texte accepté"),
    "contacted": _("Client contacté (dossier)"),
    "copied_from": _("Copié depuis"),
    "customer_satisfied": _("Client satisfait"),
    "direction": _("Sens"),
    "email": _("E-mail"),
    "event_id": _("Événement"),
    "events": _("Événements"),
    "export": _("Export"),
    "filters": _("Filtres"),
    "impact": _("Impact"),
    "information_complete": _("Informations complètes"),
    "is_published": _("Publié"),
    "kind": _("Type"),
    "label": _("Libellé"),
    "merged": _("Fusionné avec"),
    "method": _("Moyen de paiement"),
    "name": _("Nom"),
    "order": _("Commande"),
    "provider_event_retry": _("Événement du prestataire rejoué"),
    "published_at": _("Publiée le"),
    "quote": _("Devis"),
    "redelivery_of": _("Nouvel envoi de"),
    "reference": _("Référence"),
    "refund_requested": _("Remboursement demandé"),
    "removed": _("retirés"),
    "resolution": _("Résolution"),
    "revoked": _("Révoqué"),
    "role": _("Rôle"),
    "source": _("Origine"),
    "split_from": _("Scindé de"),
    "status": _("Statut"),
    "step": _("Étape"),
    "total_ht_cents": _("Total HT"),
    "total_ttc_cents": _("Total TTC"),
    "urgency": _("Urgence"),
    "url": _("Adresse (URL)"),
    "user": _("Utilisateur"),
    "value": _("Valeur"),
    "version": _("Version"),
}

# Words for values that are not a field's choice.
VALUES: dict[str, str | Promise] = {
    "in": _("entrant"),
    "out": _("sortant"),
    "checkout": _("commande en ligne"),
}


# Keys whose value is a list of items, not a [before, after] pair.
LIST_KEYS = {"events", "added", "removed"}


def register_label(key: str, label: str | Promise) -> None:
    """An app names a key its services write in `changes` (at start-up)."""
    LABELS[key] = label


@dataclass(frozen=True)
class Change:
    label: str
    value: str


def model_name(target_type: str) -> str:
    """`shop.order` → « Commande » (the model's verbose name); unknown → the stored label."""
    model = _model(target_type)
    if model is None:
        return target_type
    return str(capfirst(model._meta.verbose_name))


def describe_changes(target_type: str, changes: Any) -> list[Change]:
    """The event's `changes`, one line per key, labelled and formatted in French."""
    if not isinstance(changes, dict):
        return [Change("", _text(changes))] if changes not in (None, "") else []
    model = _model(target_type)
    out = []
    for key, value in changes.items():
        field = _field(model, key)
        out.append(Change(_label(field, key), _value(field, key, value)))
    return out


def _model(target_type: str) -> type[models.Model] | None:
    if "." not in target_type:
        return None
    try:
        return apps.get_model(target_type)
    except (LookupError, ValueError):
        return None


def _field(model: type[models.Model] | None, key: str) -> Any:
    if model is None:
        return None
    try:
        return model._meta.get_field(key)
    except FieldDoesNotExist:
        return None


def _label(field: Any, key: str) -> str:
    if key in LABELS:
        return str(LABELS[key])
    verbose = getattr(field, "verbose_name", None)
    if verbose and str(verbose) != key.replace("_", " "):  # an explicit verbose name
        return str(capfirst(verbose))
    return str(capfirst(key.replace("_", " ")))


def _value(field: Any, key: str, value: Any) -> str:
    if isinstance(value, list) and len(value) == 2 and key not in LIST_KEYS:
        # [before, after], as services write an update
        return ARROW.join(_one(field, key, v) for v in value)
    if isinstance(value, dict):
        return " ; ".join(f"{_label(None, k)} : {_value(None, k, v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(_one(field, key, v) for v in value) or EMPTY
    return _one(field, key, value)


def _one(field: Any, key: str, value: Any) -> str:
    if value is None or value == "":
        return EMPTY
    for matches, fmt in FORMATTERS:
        if matches(key, field, value):
            return fmt(value, field)
    return _text(value)


def _text(value: Any) -> str:
    if isinstance(value, dict | list):
        return ", ".join(_text(v) for v in (value.values() if isinstance(value, dict) else value))
    return str(VALUES.get(value, value)) if isinstance(value, str) else str(value)


def _is_money(key: str, field: Any, value: Any) -> bool:
    return (key.endswith("_cents") or key == "refund_requested") and _is_int(value)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _money(value: Any, field: Any) -> str:
    return format_eur(int(value))


def _is_bool(key: str, field: Any, value: Any) -> bool:
    return isinstance(value, bool)


def _bool(value: Any, field: Any) -> str:
    return str(_("oui") if value else _("non"))


def _has_choices(key: str, field: Any, value: Any) -> bool:
    return bool(getattr(field, "choices", None))


def _choice(value: Any, field: Any) -> str:
    return str(dict(field.flatchoices).get(value, value))


def _is_instant(key: str, field: Any, value: Any) -> bool:
    if not isinstance(value, str) or len(value) < 19 or value[4:5] != "-":
        return False
    return _parse_instant(value) is not None


def _parse_instant(value: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _instant(value: Any, field: Any) -> str:
    parsed = _parse_instant(value)
    if parsed is None:
        return str(value)
    return str(formats.date_format(timezone.localtime(parsed), "d/m/Y H:i"))


def _is_relation(key: str, field: Any, value: Any) -> bool:
    # A foreign key written as its id; services sometimes write a label instead (an e-mail).
    return bool(getattr(field, "is_relation", False) and getattr(field, "many_to_one", False)
                and (_is_int(value) or (isinstance(value, str) and value.isdigit())))


def _related(value: Any, field: Any) -> str:
    obj = field.related_model._default_manager.filter(pk=int(value)).first()
    return str(obj) if obj is not None else f"n° {value}"


# (does it apply?, how to write it), first match wins. Append to add a kind of value.
FORMATTERS: list[tuple[Callable[[str, Any, Any], bool], Callable[[Any, Any], str]]] = [
    (_is_bool, _bool),
    (_is_money, _money),
    (_has_choices, _choice),
    (_is_relation, _related),
    (_is_instant, _instant),
]


def describe_events(events: Iterable[Any]) -> list[tuple[Any, str, list[Change]]]:
    """(event, model name, changes) for each event of a page."""
    return [(e, model_name(e.target_type), describe_changes(e.target_type, e.changes))
            for e in events]
