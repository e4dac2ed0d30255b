"""Test helpers: the Stripe stand-in on a free loopback port, settings pointed at it.

    def test_x(standin):                   # pytest fixture (import it in a conftest.py)
        payment = payment_start(...)       # → real HTTP to the stand-in
        standin.app.pay(payment.provider_session_id)
        standin.deliver(client)            # events → the webhook via the Django test client

    with run_standin(webhook_url=live_server.url + WEBHOOK_PATH) as s: ...  # real delivery
"""

from __future__ import annotations

import json
import secrets
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import TestCase, override_settings

from testkit.stripe_standin import StandIn, make_standin_server, signature_header

WEBHOOK_PATH = "/api/v1/payments/stripe/webhook"
TEST_API_KEY = "sk_test_standin_tests"


@dataclass
class RunningStandIn:
    app: StandIn
    url: str
    secret: str

    def deliver(self, client: Any) -> list[Any]:
        """Post the events the stand-in kept (no webhook URL) to our webhook through a Django
        test client, in the caller's thread (so inside the test's transaction). The processing
        enqueued on commit runs as the request ends (as it would after a real commit)."""

        responses = []
        while self.app.outbox:
            with self.app.lock:
                body, header = self.app.outbox.pop(0)
            with TestCase.captureOnCommitCallbacks(execute=True):
                responses.append(client.post(WEBHOOK_PATH, data=body,
                                             content_type="application/json",
                                             headers={"Stripe-Signature": header}))
        return responses

    def control(self, path: str) -> dict[str, Any]:

        request = urllib.request.Request(f"{self.url}/_control/{path}", data=b"",  # noqa: S310
                                         method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return json.loads(response.read())


@contextmanager
def run_standin(*, webhook_url: str | None = None, secret: str | None = None
                ) -> Iterator[RunningStandIn]:
    secret = secret or "whsec_" + secrets.token_hex(16)
    app = StandIn(secret=secret, webhook_url=webhook_url)
    server = make_standin_server(app, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    try:
        with override_settings(STRIPE_API_BASE=url, STRIPE_SECRET_KEY=TEST_API_KEY,
                               STRIPE_WEBHOOK_SECRET=secret, PAYMENTS_TEST_MODE=True):
            yield RunningStandIn(app=app, url=url, secret=secret)
    finally:
        app.wait_idle()
        server.shutdown()
        server.server_close()


@pytest.fixture
def standin() -> Iterator[RunningStandIn]:
    """The stand-in without a webhook URL: events wait in `outbox` for `deliver(client)`."""
    with run_standin() as running:
        yield running


def signed(event: dict[str, Any], secret: str, timestamp: int | None = None
           ) -> tuple[bytes, str]:
    """(body, Stripe-Signature header) for an event dict."""
    payload = json.dumps(event)
    return payload.encode(), signature_header(payload, secret, timestamp)
