"""Writes of the agenda's set-up: resources (hours, zone, CalDAV credentials, the ICS
secret), appointment types, an account's settings. Each validates its input into field errors
(422), never a 500, whatever the JSON types."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from permanence.accounts.models import User
from permanence.accounts.selectors import accounts_visible_to
from permanence.audit.actions import Action
from permanence.audit.services import audit_record
from permanence.core.business_time import CalendarSpec
from permanence.core.errors import DomainError, Forbidden, invalid
from permanence.integrations.http_client import address_is_blocked

from . import crypto
from .models import AgendaSettings, AppointmentType, Resource, new_token
from .permissions import can_configure

TYPE_FIELDS = ("name", "duration_minutes", "buffer_before_minutes", "buffer_after_minutes",
               "min_notice_minutes", "horizon_days", "cancel_cutoff_minutes", "online",
               "questions", "price_info", "active")


def _check_configure(actor: User, account_id: int) -> None:
    if not can_configure(actor) or not accounts_visible_to(actor).filter(
            pk=account_id).exists():
        raise Forbidden(_("Vous ne pouvez pas paramétrer l'agenda de ce client."))


Errors = dict[str, list[str]]


def _text(limit: int, *, required: bool = False) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if value is None and not required:
            value = ""
        if not isinstance(value, str) or len(value) > limit or (required
                                                                 and not value.strip()):
            raise ValueError(_("Texte de 1 à %(n)s caractères.") % {"n": limit} if required
                             else _("Texte de %(n)s caractères au plus.") % {"n": limit})
        return value.strip()
    return check


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(_("Vrai ou faux attendu."))
    return value


def _url(value: Any) -> str:
    text = _text(500)(value)
    if text and not text.startswith(("http://", "https://")):
        raise ValueError(_("Une adresse http:// ou https:// est attendue."))
    host = (urlsplit(text).hostname or "") if text else ""
    # Refused at once when the address is written out (an IP or localhost); a name is
    # resolved and checked again before every sync (caldav_sync), as it may change.
    if host and not settings.CALDAV_ALLOW_PRIVATE and (
            host == "localhost" or host.endswith(".localhost")
            or (_is_ip(host) and address_is_blocked(host))):
        raise ValueError(_("Adresse privée ou locale refusée : un administrateur peut "
                           "autoriser les serveurs CalDAV internes (CALDAV_ALLOW_PRIVATE)."))
    return text


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _password(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > 500:
        raise ValueError(_("Texte de %(n)s caractères au plus.") % {"n": 500})
    return value


def _whole(low: int, high: int) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(_("Un nombre entier de %(a)s à %(b)s.") % {"a": low, "b": high})
        return value
    return check


def _questions(value: Any) -> list[str]:
    if (not isinstance(value, list) or len(value) > 20
            or not all(isinstance(q, str) and 0 < len(q.strip()) <= 200 for q in value)):
        raise ValueError(_("Une liste de 20 questions au plus (200 caractères)."))
    return [q.strip() for q in value]


def _validated(data: dict[str, Any], checks: dict[str, Callable[[Any], Any]],
               errors: Errors) -> dict[str, Any]:
    """Each given field through its check; the failures into `errors`."""
    out: dict[str, Any] = {}
    for key, check in checks.items():
        if key in data:
            try:
                out[key] = check(data[key])
            except ValueError as exc:
                errors[key] = [str(exc)]
    return out


RESOURCE_CHECKS: dict[str, Callable[[Any], Any]] = {
    "name": _text(120, required=True), "active": _flag, "caldav_url": _url,
    "caldav_username": _text(200), "caldav_password": _password}
MINUTES_YEAR = 60 * 24 * 366
TYPE_CHECKS: dict[str, Callable[[Any], Any]] = {
    "name": _text(120, required=True), "price_info": _text(200), "online": _flag,
    "active": _flag, "questions": _questions, "duration_minutes": _whole(1, 24 * 60),
    "buffer_before_minutes": _whole(0, MINUTES_YEAR),
    "buffer_after_minutes": _whole(0, MINUTES_YEAR),
    "min_notice_minutes": _whole(0, MINUTES_YEAR), "horizon_days": _whole(1, 3650),
    "cancel_cutoff_minutes": _whole(0, MINUTES_YEAR)}


def _hours(data: dict[str, Any], errors: Errors) -> dict[str, Any]:
    """Zone, weekly hours and holidays, through the business-time engine's own parser."""
    if not {"timezone", "weekly", "holidays"} & data.keys():
        return {}
    try:
        spec = CalendarSpec.from_json({"timezone": data.get("timezone", "Europe/Paris"),
                                       "weekly": data.get("weekly", {}),
                                       "holidays": data.get("holidays", "FR")})
    except DomainError as exc:
        errors.update({k: [str(m) for m in v] for k, v in exc.fields.items()})
        return {}
    shape = spec.to_json()
    shape["holidays"] = shape["holidays"] or ""
    return {key: shape[key] for key in ("timezone", "weekly", "holidays") if key in data}


def _resource_values(data: dict[str, Any]) -> dict[str, Any]:
    """Validated resource fields (only those given); DomainError 422 naming the fields."""
    errors: Errors = {}
    out = {**_validated(data, RESOURCE_CHECKS, errors), **_hours(data, errors)}
    if errors:
        raise DomainError("invalid", _("Agenda invalide."), status=422, fields=errors)
    return out


def _resource_apply(resource: Resource, values: dict[str, Any]) -> None:
    for key, value in values.items():
        if key == "caldav_password":
            resource.caldav_password_encrypted = crypto.encrypt(value)
        else:
            setattr(resource, key, value)
    if {"caldav_url", "caldav_username", "caldav_password"} & values.keys():
        resource.caldav_sync_token = ""  # another calendar: start over with a full sync  # nosec B105  # clears a sync token, not a password
        resource.caldav_error = ""


@transaction.atomic
def resource_create(*, actor: User, account_id: int, data: dict[str, Any]) -> Resource:
    _check_configure(actor, account_id)
    values = _resource_values({"timezone": "Europe/Paris", **data})
    if "name" not in values:
        raise DomainError("invalid", _("Agenda invalide."), status=422,
                          fields={"name": [_("Ce champ est obligatoire.")]})
    resource = Resource(account_id=account_id)
    _resource_apply(resource, values)
    resource.save()
    audit_record(actor=actor, action=Action.CREATE, target=resource,
                 account=resource.account, changes={k: v for k, v in values.items()
                                                    if k != "caldav_password"})
    return resource


@transaction.atomic
def resource_update(*, actor: User, resource: Resource, data: dict[str, Any]) -> Resource:
    _check_configure(actor, resource.account_id)
    values = _resource_values(data)
    locked = Resource.objects.select_for_update().get(pk=resource.pk)
    _resource_apply(locked, values)
    locked.save()
    audit_record(actor=actor, action=Action.UPDATE, target=locked, account=locked.account,
                 changes={k: ("***" if k == "caldav_password" else v)
                          for k, v in values.items()})
    return locked


@transaction.atomic
def resource_ics_revoke(*, actor: User, resource: Resource) -> Resource:
    """A new secret for the ICS feed: the old URL stops working at once."""
    _check_configure(actor, resource.account_id)
    locked = Resource.objects.select_for_update().get(pk=resource.pk)
    locked.ics_token = new_token()
    locked.save(update_fields=["ics_token", "updated_at"])
    audit_record(actor=actor, action=Action.UPDATE, target=locked, account=locked.account,
                 changes={"ics_token": "revoked"})  # nosec B105  # an audit label, not a password
    return locked


def _type_values(data: dict[str, Any]) -> dict[str, Any]:
    errors: Errors = {}
    out = _validated(data, TYPE_CHECKS, errors)
    if errors:
        raise DomainError("invalid", _("Type de rendez-vous invalide."), status=422,
                          fields=errors)
    return out


def _type_resources(account_id: int, ids: Any) -> list[Resource]:
    if not isinstance(ids, list) or not all(isinstance(i, int) and not isinstance(i, bool)
                                            for i in ids):
        raise invalid(resources=_("Une liste d'identifiants d'agendas est attendue."))
    found = list(Resource.objects.filter(account_id=account_id, pk__in=ids))
    if len(found) != len(set(ids)):
        raise invalid(resources=_("Agenda inconnu pour ce client."))
    return found


@transaction.atomic
def type_create(*, actor: User, account_id: int, data: dict[str, Any],
                resource_ids: list[int]) -> AppointmentType:
    _check_configure(actor, account_id)
    values = _type_values(data)
    if "name" not in values:
        raise DomainError("invalid", _("Type de rendez-vous invalide."), status=422,
                          fields={"name": [_("Ce champ est obligatoire.")]})
    resources = _type_resources(account_id, resource_ids)
    kind = AppointmentType.objects.create(account_id=account_id, **values)
    kind.resources.set(resources)
    audit_record(actor=actor, action=Action.CREATE, target=kind, account=kind.account,
                 changes=values)
    return kind


@transaction.atomic
def type_update(*, actor: User, kind: AppointmentType, data: dict[str, Any],
                resource_ids: list[int] | None = None) -> AppointmentType:
    _check_configure(actor, kind.account_id)
    values = _type_values(data)
    locked = AppointmentType.objects.select_for_update().get(pk=kind.pk)
    for key, value in values.items():
        setattr(locked, key, value)
    locked.save()
    if resource_ids is not None:
        locked.resources.set(_type_resources(locked.account_id, resource_ids))
    audit_record(actor=actor, action=Action.UPDATE, target=locked, account=locked.account,
                 changes=values)
    return locked


@transaction.atomic
def settings_update(*, actor: User, account_id: int, data: dict[str, Any]) -> AgendaSettings:
    _check_configure(actor, account_id)
    row, _created = AgendaSettings.objects.select_for_update().get_or_create(
        account_id=account_id)
    for key in ("online_booking", "email_reminder", "sms_reminder"):
        if key in data:
            setattr(row, key, bool(data[key]))
    for key, limit in (("public_intro", 2000), ("allowed_origins", 2000)):
        if key in data:
            setattr(row, key, str(data[key] or "")[:limit])
    row.save()
    audit_record(actor=actor, action=Action.UPDATE, target=row, account=row.account,
                 changes={k: data[k] for k in data if k in (
                     "online_booking", "email_reminder", "sms_reminder", "public_intro",
                     "allowed_origins")})
    return row
