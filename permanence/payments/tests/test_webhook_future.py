"""A signed Stripe webhook dated in the future beyond the tolerance is refused like an old one
(issue 9): Stripe's library checks only the age, so a signature made with a clock ahead (or a
captured event replayed once its date comes) would pass without our check."""

from __future__ import annotations

import time
from typing import Any

import pytest

from permanence.payments.models import ProviderEvent
from testkit.payments import WEBHOOK_PATH, signed

pytestmark = pytest.mark.django_db

EVENT = {"id": "evt_future", "type": "checkout.session.completed",
         "data": {"object": {"id": "cs_future"}}}


def post(client: Any, body: bytes, header: str) -> Any:
    return client.post(WEBHOOK_PATH, data=body, content_type="application/json",
                       headers={"Stripe-Signature": header})


def test_a_signature_dated_beyond_the_tolerance_in_the_future_is_refused(
        standin: Any, client: Any, settings: Any) -> None:
    settings.STRIPE_WEBHOOK_TOLERANCE = 300
    body, header = signed(EVENT, standin.secret, timestamp=int(time.time()) + 301 + 5)
    response = post(client, body, header)
    assert response.status_code == 400
    assert response.json()["code"] == "bad_signature"
    assert not ProviderEvent.objects.exists()


def test_a_far_future_signature_is_refused(standin: Any, client: Any) -> None:
    body, header = signed(EVENT, standin.secret, timestamp=int(time.time()) + 86400 * 365)
    assert post(client, body, header).status_code == 400
    assert not ProviderEvent.objects.exists()


def test_a_signature_slightly_ahead_within_the_tolerance_is_accepted(
        standin: Any, client: Any, settings: Any) -> None:
    """Clocks drift a little both ways: a few minutes ahead is still fresh."""
    settings.STRIPE_WEBHOOK_TOLERANCE = 300
    body, header = signed(EVENT, standin.secret, timestamp=int(time.time()) + 240)
    assert post(client, body, header).status_code == 200
    assert ProviderEvent.objects.get().event_id == "evt_future"
