"""HTTP calls to a provider's fixed API (Twilio, Brevo…), shared by the apps that talk to one.

Not integrations.http_client: that client is built for customers' webhook URLs (SSRF guard
refusing private addresses, 500-byte response excerpt), while here the URL comes from settings
and we need the provider's full JSON answer. Never call these with a transaction open.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Any


class ProviderUnreachable(Exception):
    """The provider could not be reached (network, DNS, timeout, bad URL): no HTTP answer.
    `str()` is the underlying error, for the caller's own message."""


def basic_auth(username: str, password: str) -> dict[str, str]:
    """The `Authorization` header of HTTP basic auth (Twilio: account SID and auth token)."""
    raw = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


def opener(*handlers: urllib.request.BaseHandler) -> urllib.request.OpenerDirector:
    """An opener that ignores proxies from the environment: a provider's credentials must not
    travel through a proxy nobody configured for it."""
    return urllib.request.build_opener(urllib.request.ProxyHandler({}), *handlers)


def form_body(form: Mapping[str, str]) -> tuple[bytes, dict[str, str]]:
    """A form-encoded body and its Content-Type header."""
    return (urllib.parse.urlencode(form).encode(),
            {"Content-Type": "application/x-www-form-urlencoded"})


def json_body(payload: Any) -> tuple[bytes, dict[str, str]]:
    """A JSON body and its Content-Type header."""
    return json.dumps(payload).encode(), {"Content-Type": "application/json"}


def provider_json(method: str, url: str, *, headers: Mapping[str, str],
                  body: bytes | None, timeout: float) -> tuple[int, dict[str, Any]]:
    """One call: (HTTP status, JSON answer as a dict; {} when the answer is not a JSON
    object). An HTTP error status is returned, not raised: the caller reads the provider's
    error from the answer. No answer at all → ProviderUnreachable."""
    try:  # a malformed URL (settings) is a ValueError here: no answer either
        request = urllib.request.Request(url, data=body, headers=dict(headers), method=method)  # noqa: S310 (provider API URL from settings)
        with opener().open(request, timeout=timeout) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    except (OSError, ValueError) as exc:
        raise ProviderUnreachable(str(exc)) from exc
    try:
        data = json.loads(raw or b"{}")
    except ValueError:
        data = {}
    return status, data if isinstance(data, dict) else {}
