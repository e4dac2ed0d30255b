"""POST /api/v1/telephony/events: the answer, and the ASGI fast path that gives it.

`answer()` is the webhook: the signature checked (401, nothing stored), the event validated
(422 with field errors), stored and committed (200), its processing left to the pump. The
django-ninja route (api_calls.telephony_event: the OpenAPI document, in-process clients)
returns it as it is.

`TelephonyFastPath` wraps the ASGI application and answers that one POST itself, without
Django's middleware stack: a PBX's events need none of it (no session, no cookie, no CSRF,
no page), and under uvicorn the stack cost more than the storage — each request went from
the event loop to a thread, back to the loop for an async middleware, then to the thread
again for the view. Here: the body read on the loop, one hop to a pooled thread for the
signature, the validation and the INSERT, the answer. Host checked against ALLOWED_HOSTS
as Django would; bodies over MAX_BODY refused (413)."""

from __future__ import annotations

import json
import logging
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections
from django.http.request import split_domain_port, validate_host
from django.utils import translation
from django.utils.translation import gettext as _

from permanence.core.errors import DomainError
from permanence.core.unavailable import RETRY_AFTER_SECONDS, unavailable_message

from . import calls
from .signature import HEADER, signature_valid

logger = logging.getLogger(__name__)

PATH = "/api/v1/telephony/events"
MAX_BODY = 64 * 1024  # an event is a few hundred bytes


def _error(status: int, code: str, message: str) -> tuple[int, dict[str, Any]]:
    return status, {"code": code, "message": message, "errors": {}}


def answer(body: bytes, signature: str | None) -> tuple[int, dict[str, Any]]:
    """The webhook's status and JSON answer for this body and X-Permanence-Signature: 200
    or 401; an invalid event raises DomainError (422, the fields named)."""
    if not signature_valid(body, signature, secret=settings.TELEPHONY_WEBHOOK_SECRET,
                           tolerance=settings.TELEPHONY_WEBHOOK_TOLERANCE):
        return _error(401, "unauthorized", _("Signature X-Permanence-Signature absente, "
                                             "invalide ou trop ancienne."))
    received = calls.telephony_receive(body)
    return 200, {"received": True, "duplicate": not received.created,
                 "call": received.call.pk if received.call is not None else None}


def _answer_here(body: bytes, signature: str | None) -> tuple[int, dict[str, Any]]:
    """In a thread of the pool, as Django does around a request: French messages, the
    database connection given back (to psycopg's pool) at the end."""
    try:
        with translation.override(settings.LANGUAGE_CODE):
            return answer(body, signature)
    except DomainError as exc:
        return exc.status, exc.as_json()
    except (OperationalError, InterfaceError):
        # The database unreachable: not acknowledged, so the PBX sends the event again.
        logger.warning("telephony event refused with 503: database unavailable")
        return _error(503, "unavailable", unavailable_message())
    finally:
        close_old_connections()


def _host_allowed(headers: dict[bytes, bytes]) -> bool:
    host = headers.get(b"host", b"").decode("latin-1")
    domain, _port = split_domain_port(host)
    allowed = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed:
        allowed = [".localhost", "127.0.0.1", "[::1]"]
    return bool(domain) and validate_host(domain, allowed)


class TelephonyFastPath:
    """ASGI middleware: POST PATH answered here; everything else to `app`."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if (scope["type"] != "http" or scope["path"] != PATH
                or scope.get("method") != "POST"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        if not _host_allowed(headers):
            await _respond(send, *_error(400, "bad_request", "Host non autorisé."))
            return
        body = await _body(receive)
        if body is None:
            await _respond(send, *_error(413, "too_large", "Requête trop volumineuse."))
            return
        signature = headers.get(HEADER.lower().encode())
        status, data = await sync_to_async(_answer_here, thread_sensitive=False)(
            body, signature.decode("latin-1") if signature is not None else None)
        await _respond(send, status, data)


async def _body(receive: Any) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"".join(chunks)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


async def _respond(send: Any, status: int, data: dict[str, Any]) -> None:
    payload = json.dumps(data).encode()
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json; charset=utf-8"),
        (b"content-length", str(len(payload)).encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"content-language", settings.LANGUAGE_CODE.encode()),
        *([(b"retry-after", str(RETRY_AFTER_SECONDS).encode())] if status == 503 else [])]})
    await send({"type": "http.response.body", "body": payload})
