"""Adapters: Twilio Voice status callbacks (Twilio's own X-Twilio-Signature scheme, a
recorded callback sequence) and the Asterisk AMI (a recorded event stream replayed through
`manage.py ami_listener --replay`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from permanence.core.twilio_signature import twilio_signature
from permanence.desk.adapters.asterisk import AmiMapper, parse_stream
from permanence.desk.models import Call, Callback, CallEvent, CallOutcome, CallState

from .calls_helpers import NUMBER, number_account

pytestmark = pytest.mark.django_db

TOKEN = "12345678901234567890123456789012"
URL = "http://testserver/api/v1/telephony/twilio/voice"
DATA = Path(__file__).parent / "data"

# Twilio's status callbacks of one inbound call (fields as Twilio posts them).
BASE = {"AccountSid": "AC0123456789abcdef0123456789abcdef", "ApiVersion": "2010-04-01",
        "CallSid": "CA5e9a0a1b2c3d4e5f60718293a4b5c6d7", "Called": NUMBER, "To": NUMBER,
        "From": "+33612345678", "Caller": "+33612345678", "Direction": "inbound",
        "CallerName": "JEAN PATIENT", "CallbackSource": "call-progress-events"}
TWILIO_SEQUENCE = [
    {"CallStatus": "ringing", "SequenceNumber": "0",
     "Timestamp": "Mon, 23 Nov 2026 08:00:00 +0000"},
    {"CallStatus": "in-progress", "SequenceNumber": "1",
     "Timestamp": "Mon, 23 Nov 2026 08:00:07 +0000"},
    {"CallStatus": "completed", "SequenceNumber": "2", "CallDuration": "95",
     "Duration": "2", "Timestamp": "Mon, 23 Nov 2026 08:01:42 +0000"},
]


def twilio_post(client: Any, params: dict[str, str], *, token: str = TOKEN,
                url: str = URL) -> Any:
    signature = twilio_signature(url, params.items(), token)
    return client.post("/api/v1/telephony/twilio/voice" + url.partition("/voice")[2],
                       params, headers={"X-Twilio-Signature": signature})


def test_twilio_callbacks_make_the_call(client: Any, settings: Any, account: Any,
                                        agent: Any) -> None:
    settings.TWILIO_AUTH_TOKEN = TOKEN
    number_account(account)
    for step in TWILIO_SEQUENCE:
        response = twilio_post(client, {**BASE, **step})
        assert response.status_code == 200, response.content
    again = twilio_post(client, {**BASE, **TWILIO_SEQUENCE[-1]})  # Twilio retries
    assert again.json()["duplicate"] is True
    call = Call.objects.get(call_id=BASE["CallSid"])
    assert call.account == account and call.state == CallState.WRAPUP
    assert call.outcome == CallOutcome.ANSWERED
    assert call.wait_seconds == 7 and call.talk_seconds == 95
    assert call.caller_name == "JEAN PATIENT"
    assert CallEvent.objects.filter(source="twilio").count() == 3


def test_twilio_canceled_is_an_abandoned_call_with_a_callback(client: Any, settings: Any,
                                                              account: Any) -> None:
    settings.TWILIO_AUTH_TOKEN = TOKEN
    number_account(account)
    twilio_post(client, {**BASE, **TWILIO_SEQUENCE[0]})
    twilio_post(client, {**BASE, "CallStatus": "canceled", "SequenceNumber": "1",
                         "Timestamp": "Mon, 23 Nov 2026 08:00:20 +0000"})
    call = Call.objects.get()
    assert call.outcome == CallOutcome.ABANDONED and call.cause_raw == "canceled"
    assert Callback.objects.filter(call=call).exists()


def test_twilio_agent_from_the_callback_url(client: Any, settings: Any, account: Any,
                                            agent: Any) -> None:
    settings.TWILIO_AUTH_TOKEN = TOKEN
    number_account(account)
    response = twilio_post(client, {**BASE, **TWILIO_SEQUENCE[0]},
                           url=URL + "?agent=agent%40test.fr")
    assert response.status_code == 200, response.content
    assert Call.objects.get().agent == agent


@pytest.mark.parametrize("case", ["unsigned", "wrong_token", "tampered", "no_token"])
def test_twilio_signature_is_checked(client: Any, settings: Any, case: str) -> None:
    settings.TWILIO_AUTH_TOKEN = "" if case == "no_token" else TOKEN
    params = {**BASE, **TWILIO_SEQUENCE[0]}
    headers = {}
    if case != "unsigned":
        signed = twilio_signature(URL, params.items(),
                                  "other-token" if case == "wrong_token" else TOKEN)
        headers["X-Twilio-Signature"] = signed
    if case == "tampered":
        params["To"] = "+33199999999"
    response = client.post("/api/v1/telephony/twilio/voice", params, headers=headers)
    assert response.status_code == 401
    assert not CallEvent.objects.exists()


def test_twilio_signature_matches_twilios_own_test_vector() -> None:
    """The vector of Twilio's own libraries (twilio-python's RequestValidator tests: auth
    token 12345, this URL and these parameters)."""
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    params = {"CallSid": "CA1234567890ABCDE", "Caller": "+14158675309", "Digits": "1234",
              "From": "+14158675309", "To": "+18005551212"}
    assert twilio_signature(url, params.items(), "12345") == "RSOYDt4T1cUTdK1PDd93/VVr8B8="


def test_ami_stream_replayed(account: Any, agent: Any, settings: Any) -> None:
    settings.ASTERISK_AGENTS = "101=agent@test.fr"
    number_account(account)
    call_command("ami_listener", "--replay", str(DATA / "ami_inbound_answered.txt"))
    answered = Call.objects.get(call_id="1795420800.36")
    assert answered.account == account and answered.agent == agent
    assert answered.from_number == "+33612345678" and answered.caller_name == "Jean Patient"
    assert answered.state == CallState.WRAPUP and answered.outcome == CallOutcome.ANSWERED
    assert answered.wait_seconds == 8 and answered.hold_seconds == 10
    abandoned = Call.objects.get(call_id="1795420900.40")
    assert abandoned.outcome == CallOutcome.ABANDONED and abandoned.cause_raw == (
        "16 Normal Clearing")
    assert Callback.objects.get(call=abandoned).number == "+33698765432"
    # Replaying the same recording again stores nothing new.
    count = CallEvent.objects.count()
    call_command("ami_listener", "--replay", str(DATA / "ami_inbound_answered.txt"))
    assert CallEvent.objects.count() == count


def test_ami_mapping_ignores_what_is_not_a_call_event() -> None:
    mapper = AmiMapper(agents={})
    blocks = list(parse_stream(["Asterisk Call Manager/5.0.1\r\n", "\r\n",
                                "Response: Success\r\n", "\r\n",
                                "Event: PeerStatus\r\n", "Peer: PJSIP/101\r\n", "\r\n"]))
    assert len(blocks) == 2  # the banner has no key: not a block
    assert [mapper.map(b) for b in blocks] == [None, None]
