"""The database unreachable (restarting, failing over, the network cut): 503, not 500.

A request that cannot reach the database fails wherever it first needs it — the session in a
middleware, a query in the view, the session saved on the way out — and Django turns that
exception into its 500 page. `server_error` (settings' handler500, see urls.py) looks at the
exception being handled first: for the database's connection errors it answers 503 with
Retry-After, a French page for people and JSON for the API (`/api/`, or a client asking for
JSON), so browsers, API clients and the senders of webhooks all know to try again shortly.
Nothing that got this answer was acknowledged: whatever it was writing was rolled back with
its transaction (the e-mail gateway answers 451 for the same reason, channels_email/gateway).

The pages are rendered without the request's context: its processors would query the very
database that is missing.
"""

from __future__ import annotations

import logging
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5


def database_unavailable(exc: BaseException | None) -> bool:
    """Whether `exc` (or what caused it) says the database cannot be reached."""
    seen = 0
    while exc is not None and seen < 5:
        if isinstance(exc, (OperationalError, InterfaceError)):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def wants_json(request: HttpRequest) -> bool:
    return (request.path.startswith("/api/") or request.path.startswith("/chat/api/")
            or "application/json" in request.headers.get("Accept", ""))


def unavailable_message() -> str:
    return _("Le service est momentanément indisponible. Réessayez dans quelques instants.")


def unavailable_response(request: HttpRequest) -> HttpResponse:
    response: HttpResponse
    if wants_json(request):
        response = JsonResponse({"code": "unavailable", "message": unavailable_message(),
                                 "errors": {}}, status=503)
    else:
        response = HttpResponse(render_to_string("503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: 503 when the database is unreachable, else the usual 500 page."""
    if database_unavailable(sys.exc_info()[1]):
        logger.warning("%s %s: database unavailable, answered 503", request.method,
                       request.path)
        return unavailable_response(request)
    return HttpResponse(render_to_string("500.html"), status=500)
