"""Call recordings and voicemails, listened to through Permanence only.

The provider's URL is never shown to anyone: the recording is fetched server-side (with the
provider's credentials when it is Twilio's), after the access check, and every listening is
in the audit log (who heard which call, when). A recording's host is checked like an
outgoing webhook's (no private or loopback address unless RECORDINGS_ALLOW_PRIVATE, for a PBX
on the local network), redirects are not followed and the size is capped.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from permanence.accounts.models import User
from permanence.accounts.selectors import accounts_visible_to
from permanence.audit.actions import Action
from permanence.audit.services import audit_record
from permanence.core.errors import DomainError, NotFound
from permanence.core.provider_http import basic_auth, opener
from permanence.integrations.http_client import UrlRefused, check_url

from .models import Call
from .permissions import can_read_calls

MAX_BYTES = 50 * 1024 * 1024
TIMEOUT_SECONDS = 20
ALLOWED_TYPES = ("audio/", "application/octet-stream")


@dataclass(frozen=True)
class Recording:
    data: bytes
    content_type: str


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None  # a redirect is an error: it could lead anywhere


def call_with_recording_for(user: User, pk: int) -> Call:
    """The call if the user may hear its recording: staff who read calls on their accounts,
    or a member of the call's account (espace client); 404 otherwise, and when there is no
    recording."""
    calls = Call.objects.exclude(recording_url="").filter(account__isnull=False)
    if user.is_client:
        calls = calls.filter(account__memberships__user=user)
    elif can_read_calls(user):
        calls = calls.filter(account__in=accounts_visible_to(user))
    else:
        calls = calls.none()
    call = calls.select_related("account").filter(pk=pk).first()
    if call is None:
        raise NotFound(_("Enregistrement introuvable."))
    return call


def _auth_headers(url: str) -> dict[str, str]:
    host = urlsplit(url).hostname or ""
    sid, token = settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN
    if sid and token and (host == "api.twilio.com" or host.endswith(".twilio.com")):
        return basic_auth(sid, token)
    return {}


def recording_listen(*, user: User, call: Call) -> Recording:
    """Fetch the recording for `user` (already checked by call_with_recording_for) and write
    the listening to the audit log."""
    url = call.recording_url
    try:
        check_url(url, allow_private=getattr(settings, "RECORDINGS_ALLOW_PRIVATE", False))
    except UrlRefused as exc:
        raise DomainError("recording_refused", str(exc), status=502) from None
    if transaction.get_connection().in_atomic_block:
        raise RuntimeError("recording_listen fetches from the provider: never in a transaction")
    request = urllib.request.Request(url, headers=_auth_headers(url))  # noqa: S310 (http(s) checked by the webhook parser and check_url)
    try:
        with opener(_NoRedirect()).open(request, timeout=TIMEOUT_SECONDS) as response:
            content_type = response.headers.get_content_type()
            data = response.read(MAX_BYTES + 1)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise DomainError("recording_unavailable", _(
            "L'enregistrement n'est pas disponible chez l'opérateur téléphonique (%(e)s).")
            % {"e": exc}, status=502) from None
    if len(data) > MAX_BYTES:
        raise DomainError("recording_too_large", _("Enregistrement trop volumineux."),
                          status=502)
    if not content_type.startswith(ALLOWED_TYPES):
        raise DomainError("recording_type", _("L'opérateur n'a pas renvoyé un fichier audio."),
                          status=502)
    audit_record(actor=user, action=Action.VIEW, target=call, account=call.account,
                 changes={"recording": "écouté", "consent": call.recording_consent})
    return Recording(data=data, content_type=content_type)
