"""The read-only ICS feed of a resource: public, its secret in the URL (revoked by drawing a
new one, services.resource_ics_revoke). Two queries whatever the number of events."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from . import selectors
from .ics import feed_ics


@require_GET
def ics_feed(request: HttpRequest, token: str) -> HttpResponse:
    resource = selectors.resource_by_ics_token(token)
    if resource is None:
        raise Http404
    response = HttpResponse(feed_ics(resource), content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, max-age=300"
    response["Content-Disposition"] = 'inline; filename="agenda.ics"'
    response["X-Robots-Tag"] = "noindex"
    return response
