"""The adapter to a *plateforme agréée* (PA): one interface (`Platform`), one implementation
for the AFNOR XP Z12-013 Flow Service (`AfnorFlowPlatform`), chosen by settings.

- `deposit(document)`: POST /v1/flows, multipart/form-data with a `flowInfo` JSON part
  (trackingId, name, processingRule, flowSyntax, flowProfile, sha256) and the `file` part;
- `find(tracking_id)`: POST /v1/flows/search on the trackingId — the check made before
  depositing again after an attempt whose outcome we do not know (a crash, a lost answer);
- `statuses(flow_id)`: GET /v1/flows/{flowId} (metadata): the acknowledgement (an "Error" is
  a 213 Rejetée) and the lifecycle statuses (CDV codes) reported so far.

Never call these with a database transaction open (the services check)."""

from __future__ import annotations

import hashlib
import json
import secrets
import urllib.parse
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from django.conf import settings
from django.utils.dateparse import parse_datetime

from permanence.core.provider_http import ProviderUnreachable, json_body, provider_json

TIMEOUT_SECONDS = 30.0
REJECTED = "213"


@dataclass(frozen=True)
class Document:
    tracking_id: str
    name: str
    syntax: str  # "Factur-X" (the PDF/A-3) or "CII" (the XML)
    content: bytes
    content_type: str
    processing_rule: str = "B2B"
    profile: str = "CIUS"  # EN 16931


@dataclass(frozen=True)
class Deposit:
    flow_id: str
    submitted_at: datetime


@dataclass(frozen=True)
class LifecycleStatus:
    code: str
    at: datetime
    reason: str = ""


class PlatformError(Exception):
    """The platform did not take the call. `permanent`: retrying the same request cannot
    help (refused content, bad credentials); `duplicate`: the trackingId is known already."""

    def __init__(self, message: str, *, permanent: bool = False, duplicate: bool = False,
                 status: int = 0) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.duplicate = duplicate
        self.status = status


class Platform(Protocol):
    def deposit(self, document: Document) -> Deposit: ...

    def find(self, tracking_id: str) -> Deposit | None: ...

    def statuses(self, flow_id: str) -> list[LifecycleStatus]: ...


def _when(value: Any) -> datetime:
    parsed = parse_datetime(str(value or ""))
    if parsed is None:
        return datetime.now(UTC)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def multipart(fields: list[tuple[str, str, bytes, str]]) -> tuple[bytes, dict[str, str]]:
    """multipart/form-data of (name, filename, content, content type) parts."""
    boundary = "permanence-" + secrets.token_hex(16)
    out = bytearray()
    for name, filename, content, content_type in fields:
        disposition = f'form-data; name="{name}"'
        if filename:
            disposition += f'; filename="{filename}"'
        out += (f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
                f"Content-Type: {content_type}\r\n\r\n").encode()
        out += content + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out), {"Content-Type": f"multipart/form-data; boundary={boundary}"}


class AfnorFlowPlatform:
    """The Flow Service of XP Z12-013 over HTTP, with a Bearer token."""

    def __init__(self, base_url: str, token: str, *, timeout: float = TIMEOUT_SECONDS) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def _call(self, method: str, path: str, *, body: bytes | None = None,
              headers: dict[str, str] | None = None) -> dict[str, Any]:
        try:
            status, data = provider_json(
                method, self.base_url + path, body=body, timeout=self.timeout,
                headers={"Authorization": f"Bearer {self.token}",
                         "Accept": "application/json", **(headers or {})})
        except ProviderUnreachable as exc:
            raise PlatformError(f"plateforme injoignable : {exc}") from None
        if status >= 400:
            message = str(data.get("errorMessage") or data.get("message") or f"HTTP {status}")
            code = str(data.get("errorCode") or "")
            raise PlatformError(f"{status} {code} {message}".replace("  ", " ").strip(),
                                permanent=400 <= status < 500 and status not in (408, 429),
                                duplicate=status == 409, status=status)
        return data

    def deposit(self, document: Document) -> Deposit:
        info = {"trackingId": document.tracking_id, "name": document.name,
                "processingRule": document.processing_rule, "flowSyntax": document.syntax,
                "flowProfile": document.profile,
                "sha256": hashlib.sha256(document.content).hexdigest()}
        body, headers = multipart([
            ("flowInfo", "", json.dumps(info).encode(), "application/json"),
            ("file", document.name, document.content, document.content_type)])
        data = self._call("POST", "/v1/flows", body=body, headers=headers)
        if not data.get("flowId"):
            raise PlatformError("réponse de dépôt sans flowId")
        return Deposit(flow_id=str(data["flowId"]), submitted_at=_when(data.get("submittedAt")))

    def find(self, tracking_id: str) -> Deposit | None:
        body, headers = json_body({"where": {"trackingId": tracking_id}, "limit": 1})
        data = self._call("POST", "/v1/flows/search", body=body, headers=headers)
        for flow in data.get("results") or []:
            if isinstance(flow, dict) and flow.get("trackingId") == tracking_id \
                    and flow.get("flowId"):
                return Deposit(flow_id=str(flow["flowId"]),
                               submitted_at=_when(flow.get("submittedAt")))
        return None

    def statuses(self, flow_id: str) -> list[LifecycleStatus]:
        data = self._call("GET", f"/v1/flows/{urllib.parse.quote(flow_id, safe='')}")
        found = [LifecycleStatus(code=str(item.get("code", "")), at=_when(item.get("at")),
                                 reason=str(item.get("reason") or "")[:500])
                 for item in data.get("lifecycle") or [] if isinstance(item, dict)]
        ack = data.get("acknowledgement") or {}
        if ack.get("status") == "Error" and not any(s.code == REJECTED for s in found):
            reasons = " ; ".join(str(d.get("reasonMessage") or d.get("reasonCode") or "")
                                 for d in ack.get("details") or [] if isinstance(d, dict))
            found.append(LifecycleStatus(code=REJECTED, at=_when(data.get("updatedAt")),
                                         reason=reasons[:500]))
        return [s for s in found if s.code.isdigit()]


def platform() -> Platform:
    """The configured platform (EINVOICING_PLATFORM_URL, EINVOICING_PLATFORM_TOKEN)."""
    return AfnorFlowPlatform(settings.EINVOICING_PLATFORM_URL, settings.EINVOICING_PLATFORM_TOKEN)
