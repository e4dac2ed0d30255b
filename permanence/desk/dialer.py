"""Click-to-call for outbound campaigns, behind one small interface.

`CALL_DIALER=manual` (default): the agent dials; the page offers a tel: link. `twilio`: one
POST to Twilio's Calls API rings the agent's own phone, then dials the person with the
account's number as caller ID; Twilio's status callbacks then come back through the desk's
Twilio voice adapter like any call. The provider is called with no transaction open.
"""

from __future__ import annotations

import urllib.parse
from xml.sax.saxutils import quoteattr  # nosec B406  # quoteattr escapes what we write, parses nothing

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from permanence.accounts.models import ContactChannel, User
from permanence.core.errors import DomainError
from permanence.core.provider_http import ProviderUnreachable, basic_auth, form_body, provider_json

from .models_campaigns import CampaignTarget

TIMEOUT_SECONDS = 10


def dialer_mode() -> str:
    return "twilio" if getattr(settings, "CALL_DIALER", "manual") == "twilio" else "manual"


def _caller_id(target: CampaignTarget) -> str:
    number = (ContactChannel.objects.filter(account_id=target.campaign.account_id,
                                            kind=ContactChannel.Kind.PHONE)
              .order_by("id").values_list("value", flat=True).first())
    return number or settings.TWILIO_FROM


def click_to_call(*, agent: User, target: CampaignTarget) -> str:
    """Ring the agent, then the person; returns the provider's call id."""
    if dialer_mode() != "twilio":
        raise DomainError("manual_dialer", _("Composez le numéro vous-même (appel manuel)."),
                          status=409)
    if not agent.phone:
        raise DomainError("no_agent_phone", _(
            "Indiquez votre numéro de téléphone dans votre profil : c'est lui qui sonne "
            "d'abord."), status=409)
    if transaction.get_connection().in_atomic_block:
        raise RuntimeError("click_to_call calls the provider: never inside a transaction")
    caller_id = _caller_id(target)
    twiml = (f"<Response><Dial callerId={quoteattr(caller_id)}>"
             f"<Number>{target.phone}</Number></Dial></Response>")
    body, content_type = form_body({"To": agent.phone, "From": caller_id, "Twiml": twiml})
    url = (f"{settings.TWILIO_API_BASE}/2010-04-01/Accounts/"
           f"{urllib.parse.quote(settings.TWILIO_ACCOUNT_SID)}/Calls.json")
    auth = basic_auth(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN)
    try:
        status, data = provider_json("POST", url, body=body, headers=auth | content_type,
                                     timeout=TIMEOUT_SECONDS)
    except ProviderUnreachable as exc:
        raise DomainError("dialer_unreachable", _("Service d'appel injoignable : %(e)s")
                          % {"e": exc}, status=502) from None
    if status >= 400 or not data.get("sid"):
        message = data.get("message", "")
        raise DomainError("dialer_failed", _("L'appel n'a pas pu être lancé : %(m)s")
                          % {"m": message or status}, status=502)
    return str(data["sid"])
