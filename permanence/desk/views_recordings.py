"""Listening to a call's recording or voicemail (staff; the espace client has its own URL
that uses the same checks)."""

from __future__ import annotations

from django.http import HttpResponse

from permanence.core.access import AuthedHttpRequest, staff_required
from permanence.core.errors import DomainError

from . import recordings


def recording_response(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    call = recordings.call_with_recording_for(request.user, pk)
    try:
        found = recordings.recording_listen(user=request.user, call=call)
    except DomainError as exc:
        return HttpResponse(str(exc.message), status=exc.status,
                            content_type="text/plain; charset=utf-8")
    response = HttpResponse(found.data, content_type=found.content_type)
    response["Content-Disposition"] = f'inline; filename="appel-{call.pk}"'
    response["Cache-Control"] = "private, no-store"
    return response


@staff_required
def call_recording(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    return recording_response(request, pk)
