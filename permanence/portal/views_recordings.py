"""Espace client: listening to a voicemail or recording of one of the client's calls (the
desk's checks and audit, the same as for staff)."""

from __future__ import annotations

from django.http import HttpResponse

from permanence.core.access import AuthedHttpRequest, client_required
from permanence.desk.views_recordings import recording_response


@client_required
def call_recording(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    return recording_response(request, pk)
