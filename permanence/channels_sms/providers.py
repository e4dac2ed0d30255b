"""SMS providers behind one interface: the demo's file backend, Twilio Messaging, Brevo.

A provider sends one claimed SMS (`send`, called by the worker with no transaction open) and
reads its own webhooks (`status_update`, `inbound`): what they carry is mapped here to our
statuses and to French failure reasons, so the rest of the app never sees a provider's
vocabulary. Chosen by `SMS_BACKEND` (file, twilio, brevo).

HTTP goes through `_http` below, on core.provider_http (a fixed provider API whose full JSON
answer we need), not integrations.http_client (built for customers' webhook URLs).
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _

from permanence.core import clock
from permanence.core.provider_http import (
    ProviderUnreachable,
    basic_auth,
    form_body,
    json_body,
    provider_json,
)
from permanence.core.sms import DELIVERED, FAILED, SENT

from .models import Provider, Sms

TIMEOUT_SECONDS = 15


class ProviderError(Exception):
    """The provider did not take the SMS. `permanent`: retrying cannot help (invalid
    number, refused content); otherwise (network, 5xx, rate limit) a retry follows."""

    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


@dataclass(frozen=True)
class Accepted:
    provider_message_id: str
    delivered: bool = False  # the file backend "delivers" at once


@dataclass(frozen=True)
class StatusUpdate:
    provider_message_id: str
    status: str | None  # SENT, DELIVERED, FAILED; None: a step we do not track (queued…)
    reason: str = ""


@dataclass(frozen=True)
class InboundSms:
    provider_message_id: str
    from_number: str
    to_number: str
    body: str


def _setting(name: str, default: str = "") -> str:
    return str(getattr(settings, name, "") or default)


def webhook_url(name: str) -> str:
    """Public URL of one of our SMS webhooks (what the provider is told to call)."""
    return settings.SITE_URL.rstrip("/") + reverse(f"api:{name}")


def _http(method: str, url: str, *, headers: dict[str, str], body: bytes | None,
          ) -> tuple[int, dict[str, Any]]:
    """One provider call: (HTTP status, JSON answer). Network trouble → transient error."""
    try:
        return provider_json(method, url, headers=headers, body=body, timeout=TIMEOUT_SECONDS)
    except ProviderUnreachable as exc:
        raise ProviderError(_("Fournisseur SMS injoignable : %(error)s")
                            % {"error": exc}, permanent=False) from None


# --- File backend (demo) -------------------------------------------------------------------

class FileProvider:
    """Writes each SMS to a file in SMS_FILE_PATH (var/sms by default), then reports it sent
    and delivered: the demo shows the whole path without a provider."""

    name = Provider.FILE

    def default_sender(self) -> str:
        return _setting("SMS_FROM", "Permanence")

    def send(self, sms: Sms) -> Accepted:
        folder = Path(_setting("SMS_FILE_PATH", str(Path(settings.VAR_DIR) / "sms")))
        try:
            folder.mkdir(parents=True, exist_ok=True)
            stamp = clock.now().strftime("%Y%m%d-%H%M%S")
            path = folder / f"{stamp}-sms-{sms.pk}.txt"
            path.write_text(
                f"De : {sms.from_number}\nÀ : {sms.to_number}\nRéférence : {sms.ref}\n"
                f"Encodage : {sms.encoding}, {sms.segments} SMS\n\n{sms.body}\n",
                encoding="utf-8")
        except OSError as exc:
            raise ProviderError(str(exc), permanent=False) from None
        return Accepted(f"file-{sms.pk}", delivered=True)


# --- Twilio Messaging ----------------------------------------------------------------------

# Twilio's error codes, in the words the agent and the client read.
TWILIO_ERRORS = {
    "21211": "Numéro invalide",
    "21408": "Envoi vers ce pays non autorisé",
    "21610": "Le destinataire a demandé l'arrêt des SMS (STOP)",
    "21612": "Numéro injoignable par SMS",
    "21614": "Ce numéro ne peut pas recevoir de SMS",
    "30003": "Numéro injoignable",
    "30004": "Message bloqué",
    "30005": "Numéro inconnu ou inexistant",
    "30006": "Numéro fixe ou opérateur injoignable",
    "30007": "Message filtré par l'opérateur",
    "30008": "Erreur inconnue de l'opérateur",
}


def twilio_reason(code: str, fallback: str = "") -> str:
    code = str(code or "").strip()
    label = TWILIO_ERRORS.get(code) or fallback or "Échec de l'envoi"
    return f"{label} ({code})" if code else label


class TwilioProvider:
    """Twilio's Messages API (POST /2010-04-01/Accounts/{sid}/Messages.json, basic auth),
    with a status callback to /api/v1/sms/twilio/status."""

    name = Provider.TWILIO

    def default_sender(self) -> str:
        return _setting("TWILIO_FROM")

    def send(self, sms: Sms) -> Accepted:
        sid, token = _setting("TWILIO_ACCOUNT_SID"), _setting("TWILIO_AUTH_TOKEN")
        if not sid or not token:
            raise ProviderError(_("Twilio n'est pas configuré (TWILIO_ACCOUNT_SID, "
                                  "TWILIO_AUTH_TOKEN)."), permanent=True)
        form = {"To": sms.to_number, "Body": sms.body,
                "StatusCallback": webhook_url("sms_twilio_status")}
        service = _setting("TWILIO_MESSAGING_SERVICE_SID")
        if sms.from_number:
            form["From"] = sms.from_number
        elif service:
            form["MessagingServiceSid"] = service
        else:
            raise ProviderError(_("Aucun expéditeur Twilio (TWILIO_FROM)."), permanent=True)
        base = _setting("TWILIO_API_BASE", "https://api.twilio.com").rstrip("/")
        url = f"{base}/2010-04-01/Accounts/{urllib.parse.quote(sid)}/Messages.json"
        body, content_type = form_body(form)
        status, data = _http("POST", url, body=body, headers=basic_auth(sid, token) | {
            "Accept": "application/json"} | content_type)
        if 200 <= status < 300 and data.get("sid"):
            return Accepted(str(data["sid"]))
        code = str(data.get("code") or "")
        reason = twilio_reason(code, str(data.get("message") or f"HTTP {status}"))
        # 4xx is Twilio refusing this message (bad number, blocked…), except rate limits.
        raise ProviderError(reason, permanent=400 <= status < 500 and status != 429)

    @staticmethod
    def status_update(params: dict[str, str]) -> StatusUpdate:
        value = params.get("MessageStatus") or params.get("SmsStatus") or ""
        sid = params.get("MessageSid") or params.get("SmsSid") or ""
        if value in ("sent",):
            return StatusUpdate(sid, SENT)
        if value in ("delivered", "read"):
            return StatusUpdate(sid, DELIVERED)
        if value in ("undelivered", "failed", "canceled"):
            return StatusUpdate(sid, FAILED, twilio_reason(params.get("ErrorCode", "")))
        return StatusUpdate(sid, None)

    @staticmethod
    def inbound(params: dict[str, str]) -> InboundSms:
        return InboundSms(params.get("MessageSid") or params.get("SmsSid") or "",
                          params.get("From", ""), params.get("To", ""), params.get("Body", ""))


# --- Brevo transactional SMS ---------------------------------------------------------------

BREVO_FAILURES = {
    "soft_bounce": "Numéro temporairement injoignable",
    "softBounce": "Numéro temporairement injoignable",
    "hard_bounce": "Numéro injoignable ou invalide",
    "hardBounce": "Numéro injoignable ou invalide",
    "rejected": "Message refusé",
    "skip": "Envoi ignoré (contact désabonné ou liste noire)",
    "blacklisted": "Contact en liste noire",
}


def _brevo_number(e164: str) -> str:
    """Brevo wants the recipient with its country code and no "+" (33612345678)."""
    return re.sub(r"\D", "", e164)


class BrevoProvider:
    """Brevo's transactional SMS (POST /v3/transactionalSMS/sms, `api-key` header), with the
    delivery reports of a Brevo webhook posted to /api/v1/sms/brevo/events (Brevo does not sign
    its webhooks: they carry the bearer token configured on the webhook, BREVO_WEBHOOK_TOKEN)."""

    name = Provider.BREVO

    def default_sender(self) -> str:
        return _setting("BREVO_SMS_SENDER", "Permanence")

    def send(self, sms: Sms) -> Accepted:
        key = _setting("BREVO_API_KEY")
        if not key:
            raise ProviderError(_("Brevo n'est pas configuré (BREVO_API_KEY)."), permanent=True)
        # Brevo sends from the sender registered on the Brevo account, never a client's number.
        payload = {"sender": self.default_sender()[:15],
                   "recipient": _brevo_number(sms.to_number), "content": sms.body,
                   "type": "transactional", "tag": sms.ref[:50] or "permanence",
                   "webUrl": webhook_url("sms_brevo_events"),
                   "unicodeEnabled": sms.encoding == "UCS-2"}
        base = _setting("BREVO_API_BASE", "https://api.brevo.com").rstrip("/")
        body, content_type = json_body(payload)
        status, data = _http("POST", f"{base}/v3/transactionalSMS/sms", body=body, headers={
            "api-key": key, "Accept": "application/json"} | content_type)
        if 200 <= status < 300 and data.get("messageId"):
            return Accepted(str(data["messageId"]))
        message = str(data.get("message") or f"HTTP {status}")
        reason = _("Refusé par Brevo : %(message)s") % {"message": message}
        raise ProviderError(reason, permanent=400 <= status < 500 and status != 429)

    @staticmethod
    def event_name(payload: dict[str, Any]) -> str:
        return str(payload.get("msg_status") or payload.get("event") or "")

    @classmethod
    def status_update(cls, payload: dict[str, Any]) -> StatusUpdate:
        event = cls.event_name(payload)
        message_id = str(payload.get("messageId") or "")
        if event in ("sent", "accepted"):
            return StatusUpdate(message_id, SENT)
        if event == "delivered":
            return StatusUpdate(message_id, DELIVERED)
        if event in BREVO_FAILURES:
            detail = str(payload.get("description") or payload.get("reason") or "").strip()
            reason = BREVO_FAILURES[event] + (f" ({detail})" if detail else "")
            return StatusUpdate(message_id, FAILED, reason)
        return StatusUpdate(message_id, None)


PROVIDERS: dict[str, Any] = {
    Provider.FILE: FileProvider(),
    Provider.TWILIO: TwilioProvider(),
    Provider.BREVO: BrevoProvider(),
}


def provider_named(name: str) -> Any:
    return PROVIDERS[name]


def current() -> Any:
    """The provider new SMS go through (SMS_BACKEND)."""
    name = _setting("SMS_BACKEND", Provider.FILE).strip().lower()
    return PROVIDERS.get(name) or PROVIDERS[Provider.FILE]
