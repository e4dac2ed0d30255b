"""Writes of the status app: the incident log (each change audited) and the health samples."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from permanence.accounts.models import User
from permanence.audit.actions import Action
from permanence.audit.services import audit_record, diff_fields
from permanence.core import clock
from permanence.core.errors import DomainError

from .models import Channel, ChannelDay, Incident, IncidentUpdate

FIELDS = ("kind", "title", "title_en", "description", "description_en", "channels",
          "severity", "starts_at", "ends_at", "planned", "public", "internal_notes")
MAX_TEXT = 5000


def _validate(data: dict[str, Any]) -> None:
    errors: dict[str, list[str]] = {}
    if not str(data.get("title") or "").strip():
        errors["title"] = [_("Ce champ est obligatoire.")]
    channels = data.get("channels")
    if not isinstance(channels, list) or not channels or any(
            c not in Channel.values for c in channels):
        errors["channels"] = [_("Choisissez au moins un canal dans la liste.")]
    if data.get("kind") not in Incident.Kind.values:
        errors["kind"] = [_("Choisissez dans la liste.")]
    if data.get("severity") not in Incident.Severity.values:
        errors["severity"] = [_("Choisissez dans la liste.")]
    starts, ends = data.get("starts_at"), data.get("ends_at")
    if not isinstance(starts, datetime):
        errors["starts_at"] = [_("Ce champ est obligatoire.")]
    elif isinstance(ends, datetime) and ends <= starts:
        errors["ends_at"] = [_("La fin doit suivre le début.")]
    if errors:
        raise DomainError("incident_invalid", _("Vérifiez les champs signalés."), fields=errors)


def incident_create(*, actor: User, data: dict[str, Any]) -> Incident:
    clean = {k: v for k, v in data.items() if k in FIELDS}
    _validate(clean)
    now = clock.now()
    with transaction.atomic():
        incident = Incident.objects.create(**clean, created_by=actor, created_at=now,
                                           updated_at=now)
        audit_record(actor=actor, action=Action.CREATE, target=incident,
                     changes={k: [None, v] for k, v in clean.items()})
    return incident


def incident_update(*, actor: User, incident: Incident, data: dict[str, Any]) -> Incident:
    clean = {k: v for k, v in data.items() if k in FIELDS}
    _validate(clean)
    with transaction.atomic():
        locked = Incident.objects.select_for_update().get(pk=incident.pk)
        changes = diff_fields(locked, clean)
        for name, value in clean.items():
            setattr(locked, name, value)
        locked.updated_at = clock.now()
        locked.save()
        if changes:
            audit_record(actor=actor, action=Action.UPDATE, target=locked, changes=changes)
    return locked


def incident_delete(*, actor: User, incident: Incident) -> None:
    with transaction.atomic():
        locked = Incident.objects.select_for_update().get(pk=incident.pk)
        audit_record(actor=actor, action=Action.DELETE, target=locked,
                     changes={"title": [locked.title, None]})
        locked.delete()


def incident_update_add(*, actor: User, incident: Incident, text: str, text_en: str = "",
                        at: datetime | None = None) -> IncidentUpdate:
    """A new entry of the public timeline (its time defaults to now)."""
    text, text_en = text.strip(), text_en.strip()
    if not text:
        raise DomainError("incident_update_invalid", _("Vérifiez les champs signalés."),
                          fields={"text": [_("Ce champ est obligatoire.")]})
    if len(text) > MAX_TEXT or len(text_en) > MAX_TEXT:
        raise DomainError("incident_update_invalid", _("Vérifiez les champs signalés."),
                          fields={"text": [_("Message trop long.")]})
    with transaction.atomic():
        locked = Incident.objects.select_for_update().get(pk=incident.pk)
        entry = IncidentUpdate.objects.create(incident=locked, at=at or clock.now(), text=text,
                                              text_en=text_en, created_by=actor)
        locked.updated_at = clock.now()
        locked.save(update_fields=["updated_at"])  # also empties the announcements' cache
        audit_record(actor=actor, action=Action.CREATE, target=entry,
                     changes={"incident": [None, locked.title], "text": [None, text]})
    return entry


def samples_record(results: dict[str, bool], *, at: datetime | None = None) -> None:
    """One minute of health samples: for each channel, one more minute observed, and one
    more minute up if its probe said so — a single UPDATE of the day's row (created on the
    day's first sample)."""
    now = at or clock.now()
    day = timezone.localdate(now)
    for channel, up in results.items():
        changed = ChannelDay.objects.filter(channel=channel, day=day).update(
            minutes_observed=F("minutes_observed") + 1,
            minutes_up=F("minutes_up") + (1 if up else 0), last_at=now, last_up=up)
        if changed:
            continue
        try:
            with transaction.atomic():
                ChannelDay.objects.create(channel=channel, day=day, minutes_observed=1,
                                          minutes_up=1 if up else 0, last_at=now, last_up=up)
        except IntegrityError:  # another sampler created the day's row first
            ChannelDay.objects.filter(channel=channel, day=day).update(
                minutes_observed=F("minutes_observed") + 1,
                minutes_up=F("minutes_up") + (1 if up else 0), last_at=now, last_up=up)
