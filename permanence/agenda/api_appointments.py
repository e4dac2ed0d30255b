"""The agenda's API: free slots of a type, and appointments (book, list, read, move, cancel,
mark honoured / absent). Times go out in ISO 8601 with the resource's offset.

Booking answers 201 with the appointment, or 409 `{"code": "slot_taken", ...}` when the slot
was taken meanwhile (the booking service's guarantee: never two appointments in one slot)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import Q
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja import Status as Respond

from permanence.accounts.models import Role
from permanence.audit.services import audit_view
from permanence.core.access import AuthedHttpRequest
from permanence.core.errors import invalid, invalid_fields, not_found_by_query

from . import selectors, services
from .api_common import require_agenda
from .models import Appointment, AppointmentStatus, Origin

router = Router(tags=["agenda"])

MAX_RANGE = timedelta(days=93)
ISO_DOC = ("Date et heure ISO 8601 avec décalage, ex. 2027-03-01T09:00:00+01:00 "
           "(dans une URL, « + » s'écrit %2B)")


def _instant(value: str, name: str, errors: dict[str, list[str]]) -> datetime | None:
    """An aware datetime from a query parameter, or a field error. A "+" left unencoded in
    a URL arrives as a space: "…T09:00:00 01:00" is read as "+01:00"."""
    text = re.sub(r" (\d\d:?\d\d)$", r"+\1", value.strip())
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        errors[name] = [_("Date et heure ISO 8601 attendues (ex. 2027-03-01T09:00:00+01:00).")]
        return None
    if moment.tzinfo is None:
        errors[name] = [_("Indiquez le décalage horaire (ex. +01:00 ou Z).")]
        return None
    return moment


def _aware(moment: datetime | None, name: str) -> datetime | None:
    if moment is not None and moment.tzinfo is None:
        raise invalid_fields({name: [_("Indiquez le décalage horaire (ex. +01:00 ou Z).")]})
    return moment


# --- Slots ------------------------------------------------------------------------------------


class SlotFilters(Schema):
    type: int = Field(..., description="Type de rendez-vous")
    from_: str = Field(..., alias="from", max_length=64, description=ISO_DOC,
                       json_schema_extra={"format": "date-time"})
    to: str = Field(..., max_length=64, description=ISO_DOC,
                    json_schema_extra={"format": "date-time"})
    resource: int | None = Field(None, description="Un seul agenda (sinon tous ceux du type)")
    limit: int | None = Field(None, ge=1, le=5000)


class SlotOut(Schema):
    start: str = Field(..., description="ISO 8601, décalage du fuseau de l'agenda")
    end: str
    resource: int


class SlotsOut(Schema):
    type: int
    slots: list[SlotOut]


@router.get("/agenda/slots", response=SlotsOut,
            openapi_extra=not_found_by_query("Type de rendez-vous introuvable, ou non visible"),
            summary="Créneaux libres d'un type de rendez-vous (93 jours au plus)")
def slot_list(request: AuthedHttpRequest, filters: Query[SlotFilters]) -> dict[str, Any]:
    require_agenda(request.user)
    errors: dict[str, list[str]] = {}
    start = _instant(filters.from_, "from", errors)
    end = _instant(filters.to, "to", errors)
    if start is not None and end is not None:
        if end <= start:
            errors["to"] = [_("Doit être postérieur à « from ».")]
        elif end - start > MAX_RANGE:
            errors["to"] = [_("Au plus 93 jours après « from ».")]
    if errors:
        raise invalid_fields(errors)
    assert start is not None and end is not None  # noqa: S101 — errors raised above  # nosec B101
    kind = selectors.get_type_for_user(request.user, filters.type)
    resources = None
    if filters.resource is not None:
        resource = selectors.get_resource_for_user(request.user, filters.resource)
        if not kind.resources.filter(pk=resource.pk).exists():
            raise invalid(resource=_("Cet agenda ne prend pas ce type de rendez-vous."))
        resources = [resource] if resource.active else []
    found = selectors.slots(kind, start, end, resources=resources, limit=filters.limit)
    return {"type": kind.pk, "slots": [
        {"start": s.local.isoformat(), "end": s.end.astimezone(s.tz).isoformat(),
         "resource": s.resource_id} for s in found]}


# --- Appointments -----------------------------------------------------------------------------


class ContactSchema(Schema):
    name: str = Field(..., max_length=200)
    phone: str = Field("", max_length=32)
    email: str = Field("", max_length=254)


class AppointmentOut(Schema):
    id: int
    account: int
    resource: int
    type: int
    start: str = Field(..., description="ISO 8601, décalage du fuseau de l'agenda")
    end: str
    status: str
    origin: str
    contact: ContactSchema
    answers: dict[str, str]
    notes: str
    created_at: datetime


class AppointmentIn(Schema):
    type: int
    start: datetime = Field(..., description=ISO_DOC)
    contact: ContactSchema
    resource: int | None = Field(None, description="Un agenda ; sinon le premier libre")
    answers: dict[str, str] = Field(default_factory=dict,
                                    description="Réponses aux questions du type")
    notes: str = Field("", max_length=services.MAX_NOTES)


class AppointmentPatch(Schema):
    start: datetime | None = Field(None, description="Déplacer : le nouvel horaire")
    resource: int | None = Field(None, description="Déplacer vers un autre agenda")
    status: Literal["cancelled", "honoured", "no_show"] | None = Field(
        None, description="Annuler, ou noter honoré / absent")
    reason: str = Field("", max_length=300, description="Motif de l'annulation")


class AppointmentFilters(Schema):
    resource: int | None = None
    type: int | None = None
    status: AppointmentStatus | None = None
    from_: datetime | None = Field(None, alias="from", description="Début à partir de")
    to: datetime | None = Field(None, description="Début avant")
    limit: int = Field(50, ge=1, le=200)
    cursor: str = Field("", max_length=100)


class AppointmentPage(Schema):
    limit: int
    next_cursor: str | None = Field(description=(
        "À passer en paramètre `cursor` pour la page suivante ; null sur la dernière page."))
    items: list[AppointmentOut]


def appointment_out(a: Appointment) -> dict[str, Any]:
    tz = selectors.resource_tz(a.resource)
    return {"id": a.pk, "account": a.account_id, "resource": a.resource_id, "type": a.type_id,
            "start": a.start.astimezone(tz).isoformat(), "end": a.end.astimezone(tz).isoformat(),
            "status": a.status, "origin": a.origin,
            "contact": {"name": a.contact_name, "phone": a.contact_phone,
                        "email": a.contact_email},
            "answers": a.answers or {}, "notes": a.notes, "created_at": a.created_at}


def _cursor_of(a: Appointment) -> str:
    return f"{int(a.start.timestamp() * 1_000_000)}.{a.pk}"


def _cursor_parse(cursor: str) -> Q | None:
    match = re.fullmatch(r"(-?\d{1,18})\.(\d{1,18})", cursor)
    if match is None:
        return None
    try:
        start = datetime.fromtimestamp(int(match[1]) / 1_000_000, tz=UTC)
    except (ValueError, OverflowError, OSError):
        return None
    return Q(start__gt=start) | Q(start=start, pk__gt=int(match[2]))


@router.get("/agenda/appointments", response=AppointmentPage,
            summary="Rendez-vous des comptes visibles (par début, pagination par curseur)")
def appointment_list(request: AuthedHttpRequest,
                     filters: Query[AppointmentFilters]) -> dict[str, Any]:
    require_agenda(request.user)
    start, end = _aware(filters.from_, "from"), _aware(filters.to, "to")
    qs = selectors.appointments_visible_to(request.user).select_related("resource")
    for field, value in (("resource_id", filters.resource), ("type_id", filters.type),
                         ("status", filters.status), ("start__gte", start),
                         ("start__lt", end)):
        if value is not None:
            qs = qs.filter(**{field: value})
    if filters.cursor:
        after = _cursor_parse(filters.cursor)
        if after is None:
            raise invalid(cursor=_("Curseur invalide : reprenez depuis la première page."))
        qs = qs.filter(after)
    page = list(qs.order_by("start", "pk")[:filters.limit])
    return {"limit": filters.limit,
            "next_cursor": _cursor_of(page[-1]) if len(page) == filters.limit else None,
            "items": [appointment_out(a) for a in page]}


@router.post("/agenda/appointments", response={201: AppointmentOut},
             summary="Prendre un rendez-vous (409 slot_taken si le créneau n'est plus libre)")
def appointment_create(request: AuthedHttpRequest, payload: AppointmentIn) -> Any:
    require_agenda(request.user)
    start = _aware(payload.start, "start")
    assert start is not None  # noqa: S101 — required by the schema  # nosec B101
    if payload.contact.email:
        try:
            validate_email(payload.contact.email.strip())
        except ValidationError:
            raise invalid_fields({"contact.email": [_("Adresse e-mail invalide.")]}) from None
    kind = selectors.get_type_for_user(request.user, payload.type)
    resource = (selectors.get_resource_for_user(request.user, payload.resource)
                if payload.resource is not None else None)
    origin = Origin.CLIENT if request.user.role == Role.CLIENT else Origin.SECRETARIAT
    booking = services.Booking(
        contact=services.Contact(name=payload.contact.name, phone=payload.contact.phone,
                                 email=payload.contact.email),
        answers=payload.answers, notes=payload.notes, origin=origin)
    appointment = services.appointment_book(actor=request.user, kind=kind, start=start,
                                            booking=booking, resource=resource)
    return Respond(201, appointment_out(appointment))


@router.get("/agenda/appointments/{appointment_id}", response=AppointmentOut,
            summary="Un rendez-vous")
def appointment_detail(request: AuthedHttpRequest, appointment_id: int) -> dict[str, Any]:
    require_agenda(request.user)
    appointment = selectors.get_appointment_for_user(request.user, appointment_id)
    audit_view(actor=request.user, target=appointment, account=appointment.account)
    return appointment_out(appointment)


@router.patch("/agenda/appointments/{appointment_id}", response=AppointmentOut,
              summary="Déplacer ({start, resource?}), annuler ({status: cancelled, reason?}) "
                      "ou noter honoré / absent ({status})")
def appointment_patch(request: AuthedHttpRequest, appointment_id: int,
                      payload: AppointmentPatch) -> dict[str, Any]:
    require_agenda(request.user)
    appointment = selectors.get_appointment_for_user(request.user, appointment_id)
    given = payload.dict(exclude_unset=True)
    moving = given.get("start") is not None or given.get("resource") is not None
    user = request.user
    if payload.status is not None and moving:
        raise invalid(status=_("Déplacez ou changez le statut, pas les deux à la fois."))
    if payload.status == AppointmentStatus.CANCELLED:
        changed = services.appointment_cancel(actor=user, appointment=appointment,
                                              reason=payload.reason.strip())
    elif payload.status is not None:
        changed = services.appointment_mark(actor=user, appointment=appointment,
                                            status=payload.status)
    elif moving:
        start = _aware(payload.start, "start") or appointment.start
        target = (selectors.get_resource_for_user(user, payload.resource)
                  if payload.resource is not None else None)
        if target is not None and target.account_id != appointment.account_id:
            raise invalid(resource=_("Cet agenda ne prend pas ce type de rendez-vous."))
        changed = services.appointment_move(actor=user, appointment=appointment, start=start,
                                            resource=target)
    else:
        raise invalid(__all__=_("Indiquez « start » (déplacer) ou « status »."))
    return appointment_out(Appointment.objects.select_related("resource").get(pk=changed.pk))
