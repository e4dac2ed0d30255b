"""Twilio's webhook signature (`X-Twilio-Signature`), for every app that receives Twilio
callbacks (desk: voice status callbacks; channels_sms: message status and inbound SMS).

Base64 of the HMAC-SHA1, keyed with the account's auth token, of the full URL Twilio called
followed by every POST parameter, sorted by name, each written as name + value (a repeated
name: its values sorted). Twilio signs the URL as configured: with or without the default port
(its own libraries try both), so both are tried here; and the URL as the public site names it
(SITE_URL: behind a proxy Django may see another scheme or host) as well as the one Django
sees."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.http import HttpRequest

HEADER = "X-Twilio-Signature"


def twilio_signature(url: str, params: Iterable[tuple[str, str]], token: str) -> str:
    """Twilio's signature of a request to `url` carrying the form `params`."""
    grouped: dict[str, list[str]] = {}
    for name, value in params:
        grouped.setdefault(name, []).append(value)
    text = url + "".join(name + value for name in sorted(grouped)
                         for value in sorted(grouped[name]))
    digest = hmac.new(token.encode(), text.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def _port_variants(url: str) -> list[str]:
    """The URL as given, without its port, and with the scheme's default port."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    default = 443 if parts.scheme == "https" else 80
    bare = urlunsplit(parts._replace(netloc=host))
    with_port = urlunsplit(parts._replace(netloc=f"{host}:{parts.port or default}"))
    return list(dict.fromkeys([url, bare, with_port]))


def twilio_valid(url: str, params: Iterable[tuple[str, str]], signature: str,
                 token: str) -> bool:
    if not signature or not token:
        return False
    pairs = list(params)
    return any(hmac.compare_digest(twilio_signature(candidate, pairs, token), signature)
               for candidate in _port_variants(url))


def twilio_request_valid(request: HttpRequest) -> bool:
    """The request's X-Twilio-Signature matches TWILIO_AUTH_TOKEN (unset: nobody gets in)."""
    token = str(getattr(settings, "TWILIO_AUTH_TOKEN", "") or "")
    signature = request.headers.get(HEADER, "")
    params = [(name, value) for name in request.POST for value in request.POST.getlist(name)]
    path = request.get_full_path()
    urls = dict.fromkeys([settings.SITE_URL.rstrip("/") + path, request.build_absolute_uri()])
    return any(twilio_valid(url, params, signature, token) for url in urls)
