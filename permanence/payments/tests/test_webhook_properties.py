"""Property tests of the Stripe webhook (issue 15's robustness suite): bodies of any shape,
signed with Stripe's real scheme (HMAC-SHA256 of "<t>.<body>" with the endpoint's secret, as
the `Stripe-Signature` header carries it) and posted through the real view, get a result or
a 4xx naming the problem — never a 5xx; an event with an id and a type is stored before it
is acknowledged, once: its replay stores nothing more."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from permanence.core.wire_json import storable
from permanence.payments.models import ProviderEvent
from testkit.payments import WEBHOOK_PATH, signed

pytestmark = pytest.mark.django_db

SECRET = "whsec_property_tests"
FAST = settings(max_examples=120, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])

json_scalars = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True)
                | st.text(max_size=30))
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=10), inner, max_size=4),
                           max_leaves=12)
TYPES = ["checkout.session.completed", "checkout.session.async_payment_succeeded",
         "checkout.session.async_payment_failed", "checkout.session.expired",
         "payment_intent.payment_failed", "payment_intent.succeeded", "charge.refunded",
         "invoice.paid", "customer.created"]
events = st.fixed_dictionaries(
    {"id": st.text(max_size=20) | st.sampled_from(["evt_1", "evt_2"]) | json_values,
     "type": st.sampled_from(TYPES) | json_values},
    optional={"object": st.just("event"),
              "created": st.integers() | json_values | st.sampled_from([10**20, -10**20]),
              "data": st.fixed_dictionaries({}, optional={"object": json_values}),
              "livemode": st.booleans(), "api_version": st.text(max_size=12)})


@pytest.fixture(autouse=True)
def _secret(settings: Any) -> None:
    settings.STRIPE_WEBHOOK_SECRET = SECRET
    settings.STRIPE_WEBHOOK_TOLERANCE = 300


def signature(body: bytes, timestamp: int | None = None) -> str:
    """Stripe's scheme on raw bytes (its library signs text; a body that is not UTF-8 is
    signed here the same way, byte for byte)."""
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(SECRET.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def post(client: Client, body: bytes, header: str) -> Any:
    return client.post(WEBHOOK_PATH, data=body, content_type="application/json",
                       headers={"Stripe-Signature": header})


def _named_refusal(response: Any) -> None:
    assert 400 <= response.status_code < 500, response.status_code
    body = response.json()
    assert body["code"] and body["message"]


def _posted_once(client: Client, body: bytes) -> None:
    ProviderEvent.objects.all().delete()  # each example starts from nothing
    first = post(client, body, signature(body))
    if first.status_code != 200:
        _named_refusal(first)
        assert not ProviderEvent.objects.exists()
        return
    assert first.json() == {"received": True, "duplicate": False}
    # Stored before the 200: the event is there, with the id it came with.
    stored = ProviderEvent.objects.get()
    assert stored.event_id == str(storable(json.loads(body)["id"]))[:120]
    again = post(client, body, signature(body))
    assert (again.status_code, again.json()) == (200, {"received": True, "duplicate": True})
    assert ProviderEvent.objects.count() == 1


@FAST
@given(event=events)
@example(event={"id": "evt_big", "type": "charge.refunded", "created": 10**20})
@example(event={"id": "evt_nul\x00", "type": "charge.refunded\x00",
                "data": {"object": {"id": "ch_\x00"}}})
@example(event={"id": "evt_nan", "type": "charge.refunded", "created": float("nan")})
@example(event={"id": "evt_surrogate", "type": "charge.refunded", "data": "\ud800"})
def test_any_stripe_event_is_stored_once_or_refused(client: Client,
                                                    event: dict[str, Any]) -> None:
    _posted_once(client, json.dumps(event).encode())


@FAST
@given(body=json_values)
def test_any_json_body_is_stored_once_or_refused(client: Client, body: Any) -> None:
    _posted_once(client, json.dumps(body).encode())


@FAST
@given(body=st.binary(max_size=300))
@example(body=b"\xff\xfe{}")
@example(body=b'{"id": "evt_x", "type": "charge.refunded", "created": Infinity}')
def test_signed_bytes_of_any_kind_are_refused_or_stored(client: Client, body: bytes) -> None:
    ProviderEvent.objects.all().delete()
    response = post(client, body, signature(body))
    if response.status_code == 200:
        assert ProviderEvent.objects.count() == 1
    else:
        _named_refusal(response)
        assert not ProviderEvent.objects.exists()


@FAST
@given(header=st.text(max_size=80) | st.sampled_from(["t=", "t=abc,v1=", "v1=00", ",,,",
                                                      "t=99999999999999999999,v1=ab"]))
def test_any_signature_header_is_checked_without_crashing(client: Client, header: str) -> None:
    body, _good = signed({"id": "evt_h", "type": "charge.refunded"}, SECRET)
    response = post(client, body, header)
    _named_refusal(response)
    assert not ProviderEvent.objects.exists()
