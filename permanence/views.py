from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from permanence.accounts.permissions import is_staff_member
from permanence.accounts.selectors import accounts_visible_to
from permanence.calendars.selectors import active_notices
from permanence.catalog import selectors, service_promise
from permanence.catalog.views import sector_links
from permanence.core import clock
from permanence.core.access import staff_required
from permanence.core.models import WorkerHeartbeat
from permanence.planning.permissions import can_answer_pulse
from permanence.planning.selectors import PARIS, pulse_answered
from permanence.privacy.selectors import backup_health


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The operator's public home page: editable text, featured plans, sectors, promise."""

    page = selectors.published_page_or_none("accueil")
    return render(request, "core/home.html", {
        "notices": active_notices(audience="public"),
        "page": page, "page_title": selectors.page_title(page) if page else "",
        "page_body": selectors.page_body(page) if page else "",
        "plans": selectors.featured_plans(), "sectors": sector_links(),
        "delays": service_promise.response_delays()})


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    body: dict[str, object] = {"status": "ok", "version": settings.VERSION}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        body["database"] = "ok"
    except Exception as exc:  # any driver error means "unreachable" to a load balancer
        body.update(status="error", database=f"error: {exc.__class__.__name__}")
        return JsonResponse(body, status=503)
    try:
        cache.set("healthz", "1", 5)
        body["cache"] = "ok" if cache.get("healthz") == "1" else "error"
    except Exception as exc:
        body["cache"] = f"error: {exc.__class__.__name__}"
    beat = (
        WorkerHeartbeat.objects.filter(kind="worker").order_by("-beat_at")
        .values_list("beat_at", flat=True).first()
    )
    age = None if beat is None else round((clock.now() - beat).total_seconds(), 1)
    body["worker"] = {
        "heartbeat_age_seconds": age,
        "status": "missing" if age is None
        else ("ok" if age <= settings.WORKER_HEARTBEAT_STALE_AFTER else "stale"),
    }
    # Shown, never a reason for a 503: a load balancer must not pull a node over a backup.
    body["backup"] = backup_health()
    return JsonResponse(body)


def after_login(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("login")
    if is_staff_member(request.user):
        return redirect("dashboard")
    return redirect("portal:home")


@staff_required
def dashboard(request: HttpRequest) -> HttpResponse:

    accounts = accounts_visible_to(request.user)
    stats = {
        "accounts": accounts.count(),
        "active": accounts.filter(status="actif").count(),
    }
    return render(request, "core/dashboard.html", {
        "stats": stats,
        "recent_accounts": accounts.order_by("-created_at")[:5],
        "notices": active_notices(audience="public"),
        # The staff pulse's discreet reminder, while this month's is not answered.
        "pulse_due": can_answer_pulse(request.user) and not pulse_answered(
            request.user, clock.now().astimezone(PARIS).date()),
    })


@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico whatever the pages' <link rel="icon"> says."""
    response = redirect(static("permanence/favicon.svg"))
    response["Cache-Control"] = "public, max-age=86400"
    return response
