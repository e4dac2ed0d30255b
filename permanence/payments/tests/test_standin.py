"""The stand-in itself (form decoding, signatures our verifier accepts, delivery retries) and
its place in `make demo` (runstack starts it in test mode, with a shared webhook secret)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest

from permanence.payments.stripe_client import sign, verify_signature
from testkit import stripe_standin as standin_module
from testkit.stripe_standin import StandIn, decode_form, signature_header


def test_decode_form_builds_nested_params() -> None:
    body = ("mode=payment&payment_method_types[0]=card&line_items[0][quantity]=1"
            "&line_items[0][price_data][unit_amount]=1200&line_items[1][quantity]=2"
            "&metadata[order_reference]=CM-1&payment_intent_data[metadata][a]=b")
    assert decode_form(body) == {
        "mode": "payment", "payment_method_types": ["card"],
        "line_items": [{"quantity": "1", "price_data": {"unit_amount": "1200"}},
                       {"quantity": "2"}],
        "metadata": {"order_reference": "CM-1"},
        "payment_intent_data": {"metadata": {"a": "b"}}}


def test_standin_signature_is_stripes_scheme(settings: Any) -> None:
    settings.STRIPE_WEBHOOK_SECRET = "whsec_abc"
    payload = '{"id": "evt_1"}'
    header = signature_header(payload, "whsec_abc", 1_700_000_000)
    assert header == sign(payload, "whsec_abc", 1_700_000_000)  # the stripe library's own
    verify_signature(payload.encode(), signature_header(payload, "whsec_abc"))


def test_failed_delivery_is_retried(monkeypatch: Any) -> None:
    monkeypatch.setattr(standin_module, "RETRY_SECONDS", 0.01)
    statuses = [500, 200]
    received: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            received.append(self.rfile.read(length).decode())
            self.send_response(statuses.pop(0) if statuses else 200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        app = StandIn(secret="whsec_x",
                      webhook_url=f"http://127.0.0.1:{server.server_port}/hook")
        app.sessions["cs_1"] = {"id": "cs_1", "status": "open", "payment_status": "unpaid",
                                "_pi": "pi_1"}
        app.pay("cs_1")
        app.wait_idle()
    finally:
        server.shutdown()
        server.server_close()
    assert len(received) == 2 and received[0] == received[1]
    assert app.events[0]["status"] == 200


def test_runstack_starts_the_standin_in_test_mode(settings: Any) -> None:
    from permanence.core.management.commands import runstack

    settings.PAYMENTS_TEST_MODE = True
    procs = runstack.processes("0.0.0.0", 8001)  # noqa: S104
    cmd = procs["stripe-standin"]
    assert "stripe_standin" in cmd
    assert cmd[cmd.index("--webhook-url") + 1] == (
        "http://127.0.0.1:8001/api/v1/payments/stripe/webhook")
    assert cmd[cmd.index("--port") + 1] == str(settings.STRIPE_STANDIN_PORT)
    env = runstack.child_env()
    assert env["STRIPE_WEBHOOK_SECRET"].startswith("whsec_")
    settings.PAYMENTS_TEST_MODE = False
    assert "stripe-standin" not in runstack.processes("127.0.0.1", 8000)


@pytest.mark.django_db
def test_test_mode_banner_tag(settings: Any) -> None:
    from django.template import Context, Template

    template = Template("{% load payments_tags %}{% payments_test_banner %}")
    settings.PAYMENTS_TEST_MODE = True
    assert "Mode test" in template.render(Context())
    settings.PAYMENTS_TEST_MODE = False
    assert "Mode test" not in template.render(Context())
