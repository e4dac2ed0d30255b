"""Content-Security-Policy on every response: scripts only from our own static files or an
inline <script> carrying this request's nonce (`{{ request.csp_nonce }}`), so injected markup
can never run; no plug-ins; no framing by other sites except where a page allows it.

- Inline event handlers (onclick=…) are refused by this policy: pages use data attributes
  handled by permanence/layout.js instead (`data-autosubmit`, `data-confirm`).
- Styles allow 'unsafe-inline': the charts' bars are sized by style attributes and htmx adds
  its indicator style; a style cannot run code.
- Framing: `frame-ancestors 'none'` unless the view says otherwise — the embeddable contact
  form (xframe_options_exempt: any site) and the booking page (its own `frame-ancestors`
  directive with the account's allowed sites, kept as the view wrote it).
- Websockets: `connect-src` names this host over ws/wss (the live updates, the chat)."""

from __future__ import annotations

import secrets
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

HEADER = "Content-Security-Policy"


def policy(nonce: str, host: str, frame_ancestors: str) -> str:
    directives = [
        "default-src 'self'",
        f"script-src 'self' 'nonce-{nonce}'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "media-src 'self' blob:",
        f"connect-src 'self' ws://{host} wss://{host}",
        "object-src 'none'",
        "base-uri 'self'",
    ]
    if frame_ancestors:
        directives.append(frame_ancestors)
    return "; ".join(directives)


def _frame_ancestors(response: HttpResponse) -> str:
    """What the view asked for: its own directive, any site (exempt), else none."""
    own = response.get(HEADER, "")
    for directive in own.split(";"):
        if directive.strip().startswith("frame-ancestors"):
            return directive.strip()
    if getattr(response, "xframe_options_exempt", False):
        return ""
    return "frame-ancestors 'none'"


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        nonce = secrets.token_urlsafe(16)
        request.csp_nonce = nonce  # type: ignore[attr-defined]
        response = self.get_response(request)
        if response.get("Content-Type", "").startswith("text/html") or HEADER in response:
            host = request.get_host() if _valid_host(request) else ""
            response[HEADER] = policy(nonce, host or "localhost", _frame_ancestors(response))
        return response


def _valid_host(request: HttpRequest) -> bool:
    try:
        request.get_host()
    except Exception:  # DisallowedHost: the request is refused anyway; no host to name
        return False
    return True
