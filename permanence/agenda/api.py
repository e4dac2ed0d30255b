"""The agenda's API: resources (who or what is booked) and appointment types (motifs).
Free slots and appointments are in agenda.api_appointments, added to this router below.

Visibility is the agenda selectors' (`*_visible_to`): an object of an account one may not see
is a 404. Roles without the agenda (billing staff) get a 403 on every route; setting
resources and types up is for supervisors, administrators and the account's clients
(agenda.permissions.can_configure), booking for staff who answer and clients (can_book)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja import Status as Respond

from permanence.core.access import AuthedHttpRequest
from permanence.core.errors import DomainError, NotFound, invalid

from . import caldav_sync, selectors, services
from .api_common import require_agenda, require_configure, visible_account
from .models import AppointmentType, Resource

router = Router(tags=["agenda"])


# --- Resources --------------------------------------------------------------------------------


class ResourceOut(Schema):
    id: int
    account: int
    name: str
    timezone: str
    weekly: dict[str, Any]
    holidays: str
    active: bool
    ics_url: str = Field(..., description="Flux ICS en lecture seule (adresse secrète)")
    caldav_url: str = Field(..., description="Calendrier CalDAV synchronisé (sans identifiants)")
    caldav_username: str
    caldav_configured: bool = Field(..., description="Adresse et mot de passe CalDAV présents")
    caldav_synced_at: datetime | None
    caldav_error: str


class ResourceIn(Schema):
    account: int | None = Field(None, description="Compte client ; facultatif pour un client "
                                                  "qui n'en a qu'un")
    name: str = Field(..., max_length=120)
    timezone: str = Field("Europe/Paris", max_length=64)
    weekly: dict[str, Any] | None = Field(
        None, description='Horaires : {"mon": [["09:00", "12:00"], …], …}')
    holidays: str | None = Field(None, max_length=8, description="FR, FR-57, … ; vide : aucun")
    active: bool = True
    caldav_url: str | None = Field(None, max_length=500)
    caldav_username: str | None = Field(None, max_length=200)
    caldav_password: str | None = Field(None, max_length=500,
                                        description="Jamais renvoyé (stocké chiffré)")


class ResourcePatch(Schema):
    name: str | None = Field(None, max_length=120)
    timezone: str | None = Field(None, max_length=64)
    weekly: dict[str, Any] | None = None
    holidays: str | None = Field(None, max_length=8)
    active: bool | None = None
    caldav_url: str | None = Field(None, max_length=500)
    caldav_username: str | None = Field(None, max_length=200)
    caldav_password: str | None = Field(None, max_length=500)


def _safe_url(url: str) -> str:
    """The CalDAV address without any user:password written into it."""
    if not url:
        return ""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def resource_out(resource: Resource) -> dict[str, Any]:
    return {
        "id": resource.pk, "account": resource.account_id, "name": resource.name,
        "timezone": resource.timezone, "weekly": resource.weekly or {},
        "holidays": resource.holidays or "", "active": resource.active,
        "ics_url": settings.SITE_URL + reverse("agenda_public:ics",
                                               args=[resource.ics_token]),
        "caldav_url": _safe_url(resource.caldav_url),
        "caldav_username": resource.caldav_username,
        "caldav_configured": bool(resource.caldav_url and resource.caldav_password_encrypted),
        "caldav_synced_at": resource.caldav_synced_at,
        "caldav_error": resource.caldav_error,
    }


def _resource_data(values: dict[str, Any]) -> dict[str, Any]:
    data = {k: v for k, v in values.items() if k != "account"}
    # null clears the CalDAV fields; elsewhere it means "unchanged".
    return {k: v for k, v in data.items() if v is not None or k.startswith("caldav_")}


@router.get("/agenda/resources", response=list[ResourceOut],
            summary="Agendas (ressources) des comptes visibles")
def resource_list(request: AuthedHttpRequest, account: int | None = None,
                  active: bool | None = None) -> list[dict[str, Any]]:
    require_agenda(request.user)
    qs = selectors.resources_visible_to(request.user)
    if account is not None:
        qs = qs.filter(account_id=account)
    if active is not None:
        qs = qs.filter(active=active)
    return [resource_out(r) for r in qs[:500]]


@router.post("/agenda/resources", response={201: ResourceOut}, summary="Créer un agenda")
def resource_create(request: AuthedHttpRequest, payload: ResourceIn) -> Any:
    require_agenda(request.user)
    account_id = visible_account(request.user, payload.account)
    resource = services.resource_create(actor=request.user, account_id=account_id,
                                        data=_resource_data(payload.dict()))
    return Respond(201, resource_out(resource))


@router.get("/agenda/resources/{resource_id}", response=ResourceOut, summary="Un agenda")
def resource_detail(request: AuthedHttpRequest, resource_id: int) -> dict[str, Any]:
    require_agenda(request.user)
    return resource_out(selectors.get_resource_for_user(request.user, resource_id))


@router.patch("/agenda/resources/{resource_id}", response=ResourceOut,
              summary="Modifier un agenda (horaires, fuseau, synchronisation CalDAV)")
def resource_patch(request: AuthedHttpRequest, resource_id: int,
                   payload: ResourcePatch) -> dict[str, Any]:
    require_agenda(request.user)
    resource = selectors.get_resource_for_user(request.user, resource_id)
    require_configure(request.user)
    data = _resource_data(payload.dict(exclude_unset=True))
    if {"timezone", "weekly", "holidays"} & data.keys():
        # The service validates the three together: complete what was not sent.
        data = {"timezone": resource.timezone, "weekly": resource.weekly,
                "holidays": resource.holidays or "", **data}
    return resource_out(services.resource_update(actor=request.user, resource=resource,
                                                 data=data))


class SyncOut(Schema):
    resource: int
    result: dict[str, Any] = Field(..., description="Ce que la synchronisation a changé")
    caldav_synced_at: datetime | None
    caldav_error: str


@router.post("/agenda/resources/{resource_id}/sync", response=SyncOut,
             summary="Synchroniser maintenant avec le calendrier CalDAV")
def resource_sync(request: AuthedHttpRequest, resource_id: int) -> dict[str, Any]:
    require_agenda(request.user)
    resource = selectors.get_resource_for_user(request.user, resource_id)
    require_configure(request.user)
    if not resource.caldav_url:
        raise invalid(caldav_url=_("Aucun calendrier CalDAV n'est configuré pour cet agenda."))
    result = caldav_sync.resource_sync(resource.pk)
    resource.refresh_from_db(fields=["caldav_synced_at", "caldav_error"])
    return {"resource": resource.pk, "result": result if isinstance(result, dict) else {},
            "caldav_synced_at": resource.caldav_synced_at,
            "caldav_error": resource.caldav_error}


# --- Appointment types ------------------------------------------------------------------------


class TypeOut(Schema):
    id: int
    account: int
    resource: int | None = Field(..., description="Le premier agenda qui le prend")
    resources: list[int]
    name: str
    duration_minutes: int
    buffer_before_minutes: int
    buffer_after_minutes: int
    min_notice_minutes: int
    horizon_days: int
    cancel_cutoff_minutes: int
    online: bool
    questions: list[str]
    price_info: str
    active: bool


class TypeFields(Schema):
    duration_minutes: int | None = None
    buffer_before_minutes: int | None = None
    buffer_after_minutes: int | None = None
    min_notice_minutes: int | None = None
    horizon_days: int | None = None
    cancel_cutoff_minutes: int | None = None
    online: bool | None = None
    questions: list[str] | None = None
    price_info: str | None = Field(None, max_length=200)
    active: bool | None = None
    resource: int | None = Field(None, description="Un agenda (ou `resources`)")
    resources: list[int] | None = Field(None, max_length=200)


class TypeIn(TypeFields):
    account: int | None = Field(None, description="Compte ; par défaut celui des agendas")
    name: str = Field(..., max_length=120)


class TypePatch(TypeFields):
    name: str | None = Field(None, max_length=120)


def type_out(kind: AppointmentType) -> dict[str, Any]:
    ids = sorted(r.pk for r in kind.resources.all())
    return {"id": kind.pk, "account": kind.account_id, "resource": ids[0] if ids else None,
            "resources": ids, "name": kind.name, "duration_minutes": kind.duration_minutes,
            "buffer_before_minutes": kind.buffer_before_minutes,
            "buffer_after_minutes": kind.buffer_after_minutes,
            "min_notice_minutes": kind.min_notice_minutes, "horizon_days": kind.horizon_days,
            "cancel_cutoff_minutes": kind.cancel_cutoff_minutes, "online": kind.online,
            "questions": list(kind.questions or []), "price_info": kind.price_info,
            "active": kind.active}


def _resource_ids(values: dict[str, Any]) -> list[int] | None:
    """`resource` and/or `resources` → the list the service sets (None: unchanged)."""
    one, many = values.pop("resource", None), values.pop("resources", None)
    if one is None and many is None:
        return None
    return list(dict.fromkeys(([one] if one is not None else []) + list(many or [])))


def _type_data(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if k in services.TYPE_FIELDS and v is not None}


@router.get("/agenda/appointment-types", response=list[TypeOut],
            summary="Types de rendez-vous (motifs) des comptes visibles")
def type_list(request: AuthedHttpRequest, account: int | None = None,
              resource: int | None = None) -> list[dict[str, Any]]:
    require_agenda(request.user)
    qs = selectors.types_visible_to(request.user).prefetch_related("resources")
    if account is not None:
        qs = qs.filter(account_id=account)
    if resource is not None:
        qs = qs.filter(resources=resource)
    return [type_out(k) for k in qs[:500]]


@router.post("/agenda/appointment-types", response={201: TypeOut},
             summary="Créer un type de rendez-vous")
def type_create(request: AuthedHttpRequest, payload: TypeIn) -> Any:
    require_agenda(request.user)
    values = payload.dict()
    ids = _resource_ids(values) or []
    account_id = values.pop("account")
    if account_id is None and ids:
        first = selectors.resources_visible_to(request.user).filter(pk=ids[0]).first()
        if first is None:
            raise NotFound(_("Agenda introuvable."))
        account_id = first.account_id
    account_id = visible_account(request.user, account_id)
    kind = services.type_create(actor=request.user, account_id=account_id,
                                data=_type_data(values), resource_ids=ids)
    return Respond(201, type_out(kind))


@router.get("/agenda/appointment-types/{type_id}", response=TypeOut,
            summary="Un type de rendez-vous")
def type_detail(request: AuthedHttpRequest, type_id: int) -> dict[str, Any]:
    require_agenda(request.user)
    return type_out(selectors.get_type_for_user(request.user, type_id))


@router.patch("/agenda/appointment-types/{type_id}", response=TypeOut,
              summary="Modifier un type de rendez-vous")
def type_patch(request: AuthedHttpRequest, type_id: int, payload: TypePatch) -> dict[str, Any]:
    require_agenda(request.user)
    kind = selectors.get_type_for_user(request.user, type_id)
    require_configure(request.user)
    values = payload.dict(exclude_unset=True)
    ids = _resource_ids(values)
    nulls = sorted(k for k, v in values.items() if v is None)
    if nulls:
        raise DomainError("invalid", _("Type de rendez-vous invalide."), status=422,
                          fields={k: [_("Valeur attendue (null n'est pas accepté).")]
                                  for k in nulls})
    updated = services.type_update(actor=request.user, kind=kind, data=_type_data(values),
                                   resource_ids=ids)
    return type_out(updated)


from .api_appointments import router as appointments_router  # noqa: E402

router.add_router("", appointments_router)
