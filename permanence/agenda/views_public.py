"""Pages without login: an account's booking page (/rdv/<slug>/, with its slots fragment) and
the contact's link to cancel or move (/rdv/gerer/<token>/).

`?embed=1` is the variant a client puts in an <iframe> on their own site: no site chrome.
Framing is allowed only to the origins the account listed (AgendaSettings.allowed_origins):
then the page sends `Content-Security-Policy: frame-ancestors 'self' <origins>` and no
X-Frame-Options; without origins the site-wide DENY stays. Inside a third-party iframe the
browser does not send our (SameSite=Lax) cookies, so the embedded form cannot carry the CSRF
cookie; it acts for nobody (an anonymous booking) and is rate-limited per IP, like the
embedded contact form. The normal page keeps Django's CSRF check."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods

from permanence.accounts.forms import apply_field_errors
from permanence.accounts.models import AccountStatus, ClientAccount
from permanence.core import clock
from permanence.core.errors import DomainError
from permanence.core.middleware import client_ip
from permanence.core.ratelimit import FixedWindowLimit

from . import notify, selectors, services
from .forms_public import (
    CONSENT_TEXT,
    HONEYPOT_FIELD,
    MAX_WEEKS,
    BookingForm,
    SlotQueryForm,
    parse_start,
    start_param,
)
from .models import (
    AgendaSettings,
    Appointment,
    AppointmentStatus,
    AppointmentType,
    Origin,
    Resource,
)

PUBLIC_BASE = "public_base.html"
EMBED_BASE = "agenda/public/embed_base.html"
DAYS_SHOWN = 7
BOOKING_LIMIT = FixedWindowLimit(prefix="agenda-booking", setting="AGENDA_BOOKING", limit=10)
ORIGIN_RE = re.compile(r"^https://[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*(:\d{1,5})?$")
# Service field names → the booking form's.
FIELD_MAP = {"contact.name": "name", "contact.email": "email", "contact.phone": "phone"}


# --------------------------------------------------------------------------- helpers


def allowed_origins(text: str) -> list[str]:
    """The origins that may frame the page: one https://host[:port] a line; anything else
    (which could smuggle another CSP directive) is ignored."""
    out: list[str] = []
    for line in (text or "").splitlines():
        origin = line.strip().rstrip("/")
        if ORIGIN_RE.match(origin) and origin not in out:
            out.append(origin)
    return out


def _framable(response: HttpResponse, origins: list[str]) -> HttpResponse:
    if origins:
        response["Content-Security-Policy"] = "frame-ancestors 'self' " + " ".join(origins)
        # What django.views.decorators.clickjacking.xframe_options_exempt sets, only when
        # the account allowed framing.
        response.xframe_options_exempt = True  # type: ignore[attr-defined]
    return response


def _public_account(slug: str) -> tuple[ClientAccount, AgendaSettings]:
    """The account behind /rdv/<slug>/ when its online booking is on; 404 otherwise."""
    account = (ClientAccount.objects.exclude(status=AccountStatus.TERMINATED)
               .filter(slug=slug).first())
    if account is None:
        raise Http404
    prefs = selectors.settings_for(account.pk)
    if not prefs.online_booking:
        raise Http404
    return account, prefs


def _online_types(account: ClientAccount) -> list[AppointmentType]:
    return list(AppointmentType.objects.filter(account=account, online=True, active=True)
                .order_by("name", "pk"))


@dataclass
class Week:
    """One page of slots: the days shown (in the resources' zone) and the paging."""

    days: list[tuple[date, list[selectors.Slot]]]
    first: date
    previous: date | None
    next: date | None


def _week(kind: AppointmentType, first: date | None, *,
          resources: list[Resource] | None = None) -> Week:
    if resources is None:
        resources = list(kind.resources.filter(active=True))
    tz = selectors.resource_tz(resources[0]) if resources else selectors.resource_tz(
        Resource())
    today = clock.now().astimezone(tz).date()
    last = today + timedelta(days=min(kind.horizon_days, MAX_WEEKS * 7))
    first = today if first is None or first < today else min(first, last)
    start = datetime.combine(first, time(0), tzinfo=tz)
    end = datetime.combine(first + timedelta(days=DAYS_SHOWN), time(0), tzinfo=tz)
    found = selectors.slots(kind, start, end, resources=resources, online=True)
    days: dict[date, list[selectors.Slot]] = {}
    for slot in found:
        days.setdefault(slot.local.date(), []).append(slot)
    following = first + timedelta(days=DAYS_SHOWN)
    return Week(days=sorted(days.items()), first=first,
                previous=max(first - timedelta(days=DAYS_SHOWN), today) if first > today
                else None,
                next=following if following <= last else None)


def _query(**params: Any) -> str:
    return "?" + urlencode({k: v for k, v in params.items() if v not in (None, "", False)})


def _base(embed: bool) -> str:
    return EMBED_BASE if embed else PUBLIC_BASE


def _slot_links(request: HttpRequest, account: ClientAccount, kind: AppointmentType,
                week: Week, embed: bool) -> dict[str, Any]:
    """What the slots fragment needs: the links of the slots and of the paging."""
    page = reverse("agenda_public:booking", args=[account.slug])
    fragment = reverse("agenda_public:booking_slots", args=[account.slug])
    several = len({s.resource_id for _d, slots in week.days for s in slots}) > 1
    days = [(day, [{"slot": s, "href": page + _query(
        type=kind.pk, start=start_param(s.start), agenda=s.resource_id,
        embed="1" if embed else "")} for s in slots]) for day, slots in week.days]
    paging = {}
    for name, target in (("previous", week.previous), ("next", week.next)):
        if target is not None:
            params = {"type": kind.pk, "du": target.isoformat()}
            paging[name] = {"href": page + _query(**params, embed="1" if embed else ""),
                            "hx": fragment + _query(**params, embed="1" if embed else "")}
    return {"kind": kind, "week": week, "days": days, "paging": paging,
            "several": several}


# --------------------------------------------------------------------------- booking page


def _render(request: HttpRequest, account: ClientAccount, prefs: AgendaSettings, *,
            embed: bool, status: int = 200, template: str = "agenda/public/booking.html",
            **extra: Any) -> HttpResponse:
    page = reverse("agenda_public:booking", args=[account.slug])
    context = {"account": account, "prefs": prefs, "embed": embed,
               "base_template": _base(embed), "page": page,
               "embed_q": "embed=1" if embed else "",
               "action": page + ("?embed=1" if embed else ""), **extra}
    response = render(request, template, context, status=status)
    return _framable(response, allowed_origins(prefs.allowed_origins))


def _slots_page(request: HttpRequest, account: ClientAccount, prefs: AgendaSettings,
                kind: AppointmentType, first: date | None, *, embed: bool,
                status: int = 200, error: str = "",
                types: list[AppointmentType] | None = None) -> HttpResponse:
    week = _week(kind, first)
    return _render(request, account, prefs, embed=embed, status=status, error=error,
                   types=types if types is not None else _online_types(account),
                   **_slot_links(request, account, kind, week, embed))


def _find_type(types: list[AppointmentType], pk: int | None) -> AppointmentType | None:
    if pk is None:
        return None
    kind = next((t for t in types if t.pk == pk), None)
    if kind is None:
        raise Http404
    return kind


def _resource_of(kind: AppointmentType, pk: int | None) -> Resource | None:
    if pk is None:
        return None
    return kind.resources.filter(pk=pk, active=True).first()


def _browse(request: HttpRequest, account: ClientAccount, prefs: AgendaSettings, *,
            embed: bool) -> HttpResponse:
    query = SlotQueryForm(request.GET)
    types = _online_types(account)
    if not query.is_valid():
        return _render(request, account, prefs, embed=embed, status=400, types=types,
                       error=_("Cette adresse est incomplète ou invalide : choisissez un "
                               "rendez-vous ci-dessous."))
    kind = _find_type(types, query.cleaned_data["type"])
    if kind is None:
        return _render(request, account, prefs, embed=embed, types=types)
    start = query.cleaned_data["start"]
    if start is None:
        return _slots_page(request, account, prefs, kind, query.cleaned_data["du"],
                           embed=embed, types=types)
    resource = _resource_of(kind, query.cleaned_data["agenda"])
    free = selectors.slots(kind, start, start + timedelta(minutes=1),
                           resources=[resource] if resource else None, online=True)
    slot = next((s for s in free if s.start == start), None)
    if slot is None:
        return _slots_page(request, account, prefs, kind, _local_day(start, resource),
                           embed=embed, types=types,
                           error=_("Ce créneau n'est plus disponible : choisissez-en un "
                                   "autre."))
    form = BookingForm(kind=kind, initial={"type": kind.pk, "start": start_param(start),
                                           "agenda": resource.pk if resource else None})
    return _form_page(request, account, prefs, kind, form, slot=slot, embed=embed)


def _local_day(start: datetime, resource: Resource | None) -> date:
    tz = selectors.resource_tz(resource or Resource())
    return start.astimezone(tz).date()


def _form_page(request: HttpRequest, account: ClientAccount, prefs: AgendaSettings,
               kind: AppointmentType, form: BookingForm, *,
               slot: selectors.Slot | None = None, embed: bool, status: int = 200, error: str = "") -> HttpResponse:
    page = reverse("agenda_public:booking", args=[account.slug])
    chosen = slot.local if slot else None
    if chosen is None:
        raw = form.data.get("start") if form.is_bound else form.initial.get("start")
        start = parse_start(str(raw or ""))
        chosen = start.astimezone(selectors.resource_tz(Resource())) if start else None
    back = page + _query(type=kind.pk, du=chosen.date().isoformat() if chosen else "",
                         embed="1" if embed else "")
    return _render(request, account, prefs, embed=embed, status=status, kind=kind,
                   form=form, slot=slot, chosen=chosen, back=back, honeypot=HONEYPOT_FIELD,
                   error=error)


def _book(request: HttpRequest, account: ClientAccount, prefs: AgendaSettings, *,
          embed: bool) -> HttpResponse:
    ip = client_ip(request) or "inconnue"
    types = _online_types(account)
    query = SlotQueryForm({"type": request.POST.get("type", "")})
    if not query.is_valid() or query.cleaned_data["type"] is None:
        return _render(request, account, prefs, embed=embed, status=422, types=types,
                       error=_("Choisissez un type de rendez-vous."))
    kind = _find_type(types, query.cleaned_data["type"])
    assert kind is not None  # noqa: S101 — _find_type raised 404 for an unknown id  # nosec B101
    form = BookingForm(request.POST, kind=kind)
    if BOOKING_LIMIT.exceeded(ip):
        form = BookingForm(initial={k: v for k, v in request.POST.items()
                                    if k in ("type", "start", "agenda", "name", "email",
                                             "phone")}, kind=kind)
        response = _form_page(request, account, prefs, kind, form, embed=embed,
                              status=429, error=_(
                                  "Trop de réservations ont été envoyées depuis votre "
                                  "connexion. Merci de patienter quelques minutes."))
        response["Retry-After"] = str(BOOKING_LIMIT.retry_after_seconds())
        return response
    if not form.is_valid() or form.cleaned_data.get(HONEYPOT_FIELD, "").strip():
        if form.is_valid():
            BOOKING_LIMIT.hit(ip)  # a robot: refused, and counted
            form.add_error(None, _("Votre réservation n'a pas pu être enregistrée."))
        return _form_page(request, account, prefs, kind, form, embed=embed,
                          status=422)
    BOOKING_LIMIT.hit(ip)
    data = form.cleaned_data
    start = data["start"]
    try:
        appointment = services.appointment_book(
            actor=None, kind=kind, start=start, resource=_resource_of(kind, data["agenda"]),
            booking=services.Booking(
                contact=services.Contact(name=data["name"], phone=data["phone"],
                                         email=data["email"]),
                answers=form.answers(), origin=Origin.ONLINE,
                consent_text=str(CONSENT_TEXT)))
    except DomainError as exc:
        if exc.status == 409:
            return _slots_page(request, account, prefs, kind, _local_day(start, None),
                               embed=embed, status=409, types=types, error=str(exc.message))
        apply_field_errors(form, {FIELD_MAP.get(k, "__all__"): v for k, v in
                                  exc.fields.items()}, str(exc.message))
        return _form_page(request, account, prefs, kind, form, embed=embed,
                          status=exc.status if 400 <= exc.status < 500 else 422)
    return _render(request, account, prefs, embed=embed,
                   template="agenda/public/confirmed.html", appointment=appointment,
                   when=notify.when_text(appointment), manage_url=notify.manage_url(appointment))


def _booking(request: HttpRequest, slug: str, *, embed: bool) -> HttpResponse:
    account, prefs = _public_account(slug)
    if request.method == "POST":
        return _book(request, account, prefs, embed=embed)
    return _browse(request, account, prefs, embed=embed)


_standalone_booking = csrf_protect(_booking)


@csrf_exempt  # checked for the normal page; see the module docstring for the embed
@require_http_methods(["GET", "HEAD", "POST"])
def booking_page(request: HttpRequest, slug: str) -> HttpResponse:
    embed = request.GET.get("embed") == "1"
    if embed:
        return _booking(request, slug, embed=True)
    return _standalone_booking(request, slug, embed=False)


@require_GET
def booking_slots(request: HttpRequest, slug: str) -> HttpResponse:
    """The slots of one type and week: the fragment htmx swaps in (the full page shows the
    same with the same query parameters, without JavaScript)."""
    account, prefs = _public_account(slug)
    embed = request.GET.get("embed") == "1"
    query = SlotQueryForm(request.GET)
    if not query.is_valid() or query.cleaned_data["type"] is None:
        return HttpResponse(_("Adresse invalide."), status=400,
                            content_type="text/plain; charset=utf-8")
    kind = _find_type(_online_types(account), query.cleaned_data["type"])
    assert kind is not None  # noqa: S101 — _find_type raised 404 for an unknown id  # nosec B101
    week = _week(kind, query.cleaned_data["du"])
    return _render(request, account, prefs, embed=embed, template="agenda/public/_slots.html",
                   **_slot_links(request, account, kind, week, embed))


# --------------------------------------------------------------------------- manage link


def _changeable(appointment: Appointment, now: datetime) -> bool:
    cutoff = appointment.start - timedelta(minutes=appointment.type.cancel_cutoff_minutes)
    return appointment.status == AppointmentStatus.CONFIRMED and now <= cutoff


def _manage_page(request: HttpRequest, appointment: Appointment, *, status: int = 200,
                 error: str = "", mode: str = "") -> HttpResponse:
    now = clock.now()
    changeable = _changeable(appointment, now)
    context: dict[str, Any] = {
        "appointment": appointment, "when": notify.when_text(appointment),
        "changeable": changeable, "error": error,
        "cancelled": appointment.status == AppointmentStatus.CANCELLED,
        "past": appointment.start <= now,
        "mode": mode if changeable else "",
        "page": reverse("agenda_public:manage", args=[appointment.token]),
    }
    if context["mode"] == "deplacer":
        query = SlotQueryForm(request.GET)
        first = query.cleaned_data["du"] if query.is_valid() else None
        week = _week(appointment.type, first, resources=[appointment.resource])
        days = [(day, [{"slot": s, "value": start_param(s.start)} for s in slots])
                for day, slots in week.days]
        paging = {name: context["page"] + _query(action="deplacer", du=target.isoformat())
                  for name, target in (("previous", week.previous), ("next", week.next))
                  if target is not None}
        context.update(days=days, paging=paging, week=week)
    response = render(request, "agenda/public/manage.html", context, status=status)
    response["Cache-Control"] = "private, no-store"
    return response


@require_http_methods(["GET", "HEAD", "POST"])
def manage(request: HttpRequest, token: str) -> HttpResponse:
    appointment = selectors.by_token(token)
    if appointment is None:
        raise Http404
    if request.method != "POST":
        mode = request.GET.get("action", "")
        return _manage_page(request, appointment,
                            mode=mode if mode in ("annuler", "deplacer") else "")
    action = request.POST.get("action", "")
    try:
        if action == "cancel":
            services.appointment_cancel(actor=None, appointment=appointment, by_contact=True,
                                        reason=_("Annulé en ligne par le contact."))
            messages.success(request, _("Votre rendez-vous est annulé."))
        elif action == "move":
            start = parse_start(request.POST.get("start", ""))
            if start is None:
                return _manage_page(request, appointment, status=422, mode="deplacer",
                                    error=_("Choisissez un nouveau créneau dans la liste."))
            services.appointment_move(actor=None, appointment=appointment, start=start,
                                      by_contact=True)
            messages.success(request, _("Votre rendez-vous est déplacé."))
        else:
            return _manage_page(request, appointment, status=400,
                                error=_("Action inconnue."))
    except DomainError as exc:
        appointment.refresh_from_db()
        mode = "deplacer" if action == "move" and exc.code != "cutoff" else ""
        return _manage_page(request, appointment, mode=mode, error=str(exc.message),
                            status=exc.status if 400 <= exc.status < 500 else 409)
    return redirect(reverse("agenda_public:manage", args=[appointment.token]))
