"""Puts who/where of the current request in context variables, for the audit log."""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation

from .errors import DomainError


@dataclass(frozen=True)
class RequestContext:
    ip: str | None = None
    user_agent: str = ""
    path: str = ""


_EMPTY = RequestContext()
_current: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar(
    "permanence_request_context", default=None
)


def current_request_context() -> RequestContext:
    return _current.get() or _EMPTY


def client_ip(request: HttpRequest) -> str | None:
    # Behind a trusted proxy (PROXY_COUNT), the client is the last untrusted hop.

    proxies = getattr(settings, "AXES_IPWARE_PROXY_COUNT", None)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies and forwarded:
        hops = [h.strip() for h in forwarded.split(",") if h.strip()]
        if len(hops) >= proxies:
            return hops[-proxies]
    return request.META.get("REMOTE_ADDR")


class RequestContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _current.set(
            RequestContext(
                ip=client_ip(request),
                user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
                path=request.path[:300],
            )
        )
        try:
            return self.get_response(request)
        finally:
            _current.reset(token)


class DomainErrorMiddleware:
    """Renders a DomainError raised in a view as a French error page with its status."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, DomainError):
            return None
        return render(request, "core/error.html", {"error": exception}, status=exception.status)


class LanguageMiddleware:
    """French first: the UI is French unless the user chose English (profile, or the
    language switch for visitors). The browser's Accept-Language is deliberately ignored,
    so that nobody gets half-French, half-English pages by accident."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        supported = {code for code, _name in settings.LANGUAGES}
        user = getattr(request, "user", None)
        language = None
        if user is not None and user.is_authenticated:
            language = getattr(user, "language", None)
        if language not in supported:
            language = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if language not in supported:
            language = settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language  # type: ignore[attr-defined]
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response
