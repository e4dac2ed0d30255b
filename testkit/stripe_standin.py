"""A local stand-in for the part of Stripe's API we use, for tests and the demo's test mode.

Plain WSGI (no Django): `StandIn(secret=..., webhook_url=...)` is the application; `serve()`
runs it on a loopback port. It implements:

- POST /v1/checkout/sessions (form-encoded, nested `a[b][0][c]=` params, Idempotency-Key
  honoured: the same key returns the same session, with other params a 400 like Stripe),
  GET /v1/checkout/sessions/{id}, POST /v1/customers, POST /v1/refunds — with Stripe's JSON
  shapes and error envelope, Bearer key required;
- POST /v1/payment_intents (confirm=true, off_session=true: a saved card or SEPA mandate
  charged), GET /v1/payment_intents/{id}. Stripe's test payment methods: `pm_card_visa` (and
  any other card) succeeds at once (payment_intent.succeeded); `pm_card_chargeDeclined` is
  declined: 402 card_error whose body carries the PaymentIntent (requires_payment_method),
  and payment_intent.payment_failed; a SEPA debit (payment_method_types sepa_debit, or a
  `pm_sepa…` method) is `processing` (payment_intent.processing) until settled by
  /_control/payment_intents/{id}/settle?outcome=succeeded|failed; /_control/payment_intents/
  {id}/dispute sends charge.dispute.created (a SEPA return weeks later). Like Stripe, the
  answer of a request that reached the card networks (402 included) is kept under its key;
- the hosted payment page GET/POST /pay/{session id} (French, "Mode test — aucun paiement
  réel"): "Payer" / "Simuler un refus" for cards, "Valider le mandat" for SEPA; the outcome is
  sent as signed events (Stripe's scheme: t=…,v1=HMAC-SHA256("{t}.{payload}")) to the webhook
  URL, then the browser is redirected to success_url / cancel_url;
- control endpoints for tests: POST /_control/sessions/{id}/settle?outcome=succeeded|failed
  (SEPA debit outcome), /refund, /expire, /pay?action=pay|decline|mandate, /_control/fail-next
  ?count=N&status=500 (next API calls fail), /_control/delay-next?count=N&seconds=S (next API
  calls are processed at once but answered S seconds late: a slow provider, or — past the
  client's time-out — an answer lost on the way back), GET /_control/events (what was sent).

Without a webhook URL, events are kept in `outbox` for the test to deliver itself.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import json
import re
import secrets
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import parse_qsl, quote
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

API_VERSION = "2025-09-30.clover"
RETRY_SECONDS = 2.0
Response = tuple[str, list[tuple[str, str]], bytes]


def _id(prefix: str) -> str:
    return f"{prefix}_test_{secrets.token_hex(12)}"


def decode_form(body: str) -> dict[str, Any]:
    """Stripe's form encoding: `line_items[0][price_data][currency]=eur` → nested dicts and
    lists; `payment_method_types[0]=card` → a list."""
    root: dict[str, Any] = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        parts = re.findall(r"[^\[\]]+|\[\]", key)
        node: Any = root
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            nxt = None if last else parts[i + 1]
            child_default: Any = [] if (nxt is not None and (nxt.isdigit() or nxt == "[]")) \
                else {}
            if isinstance(node, list):
                index = len(node) if part == "[]" else int(part)
                while len(node) <= index:
                    node.append(None)
                if last:
                    node[index] = value
                else:
                    if node[index] is None:
                        node[index] = child_default
                    node = node[index]
            elif last:
                node[part] = value
            else:
                node = node.setdefault(part, child_default)
    return root


def signature_header(payload: str, secret: str, timestamp: int | None = None) -> str:
    ts = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{ts}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={ts},v1={mac}"


class StandIn:
    def __init__(self, *, secret: str, webhook_url: str | None = None,
                 api_key_prefix: str = "sk_test_", base_url: str = "") -> None:
        self.secret = secret
        self.webhook_url = webhook_url
        self.api_key_prefix = api_key_prefix
        self.base_url = base_url.rstrip("/")
        self.sessions: dict[str, dict[str, Any]] = {}
        self.customers: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.intents: dict[str, dict[str, Any]] = {}
        self.idempotency: dict[str, tuple[str, Response]] = {}
        self.requests: list[dict[str, Any]] = []  # API calls received (method, path, headers)
        self.events: list[dict[str, Any]] = []  # events sent, with the delivery status
        self.outbox: list[tuple[bytes, str]] = []  # (body, Stripe-Signature) not delivered
        self.fail_next: list[int] = []
        self.delay_next: list[float] = []
        self.lock = threading.RLock()
        self._threads: list[threading.Thread] = []

    # --- WSGI ----------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]
                 ) -> Iterable[bytes]:
        status, headers, body = self.handle(environ)
        start_response(status, headers + [("Content-Length", str(len(body)))])
        return [body]

    def handle(self, environ: dict[str, Any]) -> Response:
        method = environ["REQUEST_METHOD"]
        path = environ.get("PATH_INFO", "")
        query = dict(parse_qsl(environ.get("QUERY_STRING", "")))
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length).decode() if length else ""
        if not self.base_url:
            host = environ.get("HTTP_HOST") or f"{environ['SERVER_NAME']}:{environ['SERVER_PORT']}"
            self.base_url = f"http://{host}"
        try:
            if path.startswith("/v1/"):
                return self._api(method, path, body, environ)
            if path.startswith("/pay/"):
                return self._page(method, path[len("/pay/"):], body)
            if path.startswith("/_control/"):
                return self._control(method, path[len("/_control/"):], query)
        except KeyError:
            return _json(404, _error("resource_missing", "No such object."))
        return _json(404, _error("invalid_request_error", f"Unrecognized request URL "
                                 f"({method}: {path})."))

    # --- API -----------------------------------------------------------------------------------

    def _api(self, method: str, path: str, body: str, environ: dict[str, Any]) -> Response:
        response = self._api_answer(method, path, body, environ)
        with self.lock:
            delay = self.delay_next.pop(0) if self.delay_next else 0.0
        if delay:
            time.sleep(delay)  # outside the lock: other calls are answered meanwhile
        return response

    def _api_answer(self, method: str, path: str, body: str,
                    environ: dict[str, Any]) -> Response:
        auth = environ.get("HTTP_AUTHORIZATION", "")
        key = environ.get("HTTP_IDEMPOTENCY_KEY", "")
        with self.lock:
            self.requests.append({"method": method, "path": path, "idempotency_key": key,
                                  "params": decode_form(body)})
            if not auth.startswith(f"Bearer {self.api_key_prefix}"):
                return _json(401, {"error": {"type": "invalid_request_error",
                                             "message": "Invalid API Key provided."}})
            if self.fail_next:
                status = self.fail_next.pop(0)
                return _json(status, {"error": {"type": "api_error",
                                                "message": "Simulated failure."}})
            if method == "POST" and key:
                fingerprint = f"{method} {path} {body}"
                seen = self.idempotency.get(key)
                if seen is not None:
                    if seen[0] != fingerprint:
                        return _json(400, {"error": {
                            "type": "idempotency_error",
                            "message": "Keys for idempotent requests can only be used with "
                                       "the same parameters they were first used with."}})
                    line, headers, out = seen[1]
                    return line, headers + [("Idempotent-Replayed", "true")], out
            response = self._api_route(method, path, decode_form(body))
            # Stripe keeps the result of a request that started executing, a decline (402)
            # included; a request refused by validation (400) may be sent again.
            if method == "POST" and key and response[0].startswith(("2", "402")):
                self.idempotency[key] = (f"{method} {path} {body}", response)
            return response

    def _api_route(self, method: str, path: str, params: dict[str, Any]) -> Response:
        if method == "POST" and path == "/v1/checkout/sessions":
            return self._session_create(params)
        m = re.fullmatch(r"/v1/checkout/sessions/([\w]+)", path)
        if m and method == "GET":
            return _json(200, _public(self.sessions[m.group(1)]))
        if method == "POST" and path == "/v1/customers":
            customer = self._customer(params.get("email"), params.get("name"))
            return _json(200, customer)
        if method == "POST" and path == "/v1/refunds":
            return self._refund_create(params)
        if method == "POST" and path == "/v1/payment_intents":
            return self._intent_create(params)
        m = re.fullmatch(r"/v1/payment_intents/([\w]+)", path)
        if m and method == "GET":
            return _json(200, _public(self.intents[m.group(1)]))
        return _json(404, _error("invalid_request_error", f"Unrecognized request URL "
                                 f"({method}: {path})."))

    def _customer(self, email: str | None, name: str | None = None) -> dict[str, Any]:
        customer: dict[str, Any] = {"id": _id("cus"), "object": "customer", "email": email, "name": name,
                                    "created": int(time.time()), "livemode": False,
                                    "metadata": {}}
        self.customers[customer["id"]] = customer
        return customer

    def _session_create(self, params: dict[str, Any]) -> Response:
        for required in ("mode", "success_url", "line_items"):
            if not params.get(required):
                return _json(400, _error("parameter_missing",
                                         f"Missing required param: {required}.", required))
        items = params["line_items"]
        total = 0
        for item in items:
            price = item.get("price_data") or {}
            try:
                total += int(price.get("unit_amount", 0)) * int(item.get("quantity", 1))
            except ValueError:
                return _json(400, _error("parameter_invalid_integer", "Invalid integer.",
                                         "line_items"))
        session_id = _id("cs")
        now = int(time.time())
        methods = params.get("payment_method_types") or ["card"]
        customer = None
        if params.get("customer_creation") == "always" or params.get("customer"):
            customer = params.get("customer") or self._customer(
                params.get("customer_email"))["id"]
        intent_data = params.get("payment_intent_data") or {}
        session = {
            "id": session_id, "object": "checkout.session",
            "amount_subtotal": total, "amount_total": total,
            "cancel_url": params.get("cancel_url"), "success_url": params["success_url"],
            "client_reference_id": params.get("client_reference_id"),
            "created": now, "expires_at": now + 24 * 3600,
            "currency": (params.get("currency") or
                         (items[0].get("price_data") or {}).get("currency") or "eur"),
            "customer": customer, "customer_creation": params.get("customer_creation"),
            "customer_details": {"email": params.get("customer_email")},
            "customer_email": params.get("customer_email"),
            "livemode": False, "locale": params.get("locale"),
            "metadata": params.get("metadata") or {}, "mode": params["mode"],
            # Like Stripe (API ≥ 2022-08-01): no PaymentIntent id until the buyer confirms.
            "payment_intent": None, "payment_method_types": methods,
            "payment_status": "unpaid", "status": "open",
            "url": f"{self.base_url}/pay/{session_id}",
            # Not part of Stripe's session object: kept for the page and the events.
            "_line_items": items, "_pi": _id("pi"),
            "_intent_metadata": intent_data.get("metadata") or {},
            "_setup_future_usage": intent_data.get("setup_future_usage"),
        }
        self.sessions[session_id] = session
        return _json(200, _public(session))

    def _refund_create(self, params: dict[str, Any]) -> Response:
        intent = params.get("payment_intent")
        session = next((s for s in self.sessions.values()
                        if s["_pi"] == intent and s["payment_status"] == "paid"),
                       None)
        if session is None:
            charged = self.intents.get(str(intent))
            if charged is None or charged["status"] != "succeeded":
                return _json(400, _error("resource_missing",
                                         f"No such payment_intent: '{intent}'",
                                         "payment_intent"))
            return self._intent_refund(charged, params)
        amount = int(params.get("amount") or session["amount_total"])
        refund = self._refund(session, amount, params.get("metadata") or {})
        self._later(lambda: self._send("charge.refunded", self._charge(session)))
        return _json(200, refund)

    def _refund(self, session: dict[str, Any], amount: int,
                metadata: dict[str, Any]) -> dict[str, Any]:
        refund = {"id": _id("re"), "object": "refund", "amount": amount,
                  "currency": session["currency"], "payment_intent": session["_pi"],
                  "charge": session.get("_charge_id"), "status": "succeeded",
                  "metadata": metadata, "created": int(time.time())}
        self.refunds[refund["id"]] = refund
        session["_refunded"] = min(session["amount_total"],
                                   session.get("_refunded", 0) + amount)
        return refund

    # --- PaymentIntents (off session) ------------------------------------------------------------

    def _intent_create(self, params: dict[str, Any]) -> Response:
        for required in ("amount", "currency"):
            if not params.get(required):
                return _json(400, _error("parameter_missing",
                                         f"Missing required param: {required}.", required))
        try:
            amount = int(params["amount"])
        except ValueError:
            return _json(400, _error("parameter_invalid_integer", "Invalid integer.", "amount"))
        method = str(params.get("payment_method") or "")
        if params.get("confirm") == "true" and not method:
            return _json(400, _error("parameter_missing",
                                     "Missing required param: payment_method.",
                                     "payment_method"))
        types = params.get("payment_method_types") or ["card"]
        sepa = "sepa_debit" in types or method.startswith("pm_sepa")
        intent: dict[str, Any] = {
            "id": _id("pi"), "object": "payment_intent", "amount": amount,
            "amount_received": 0, "currency": params["currency"],
            "customer": params.get("customer"), "description": params.get("description"),
            "metadata": params.get("metadata") or {}, "payment_method": method or None,
            "payment_method_types": types, "off_session": params.get("off_session") == "true",
            "status": "requires_confirmation", "last_payment_error": None,
            "latest_charge": None, "livemode": False, "created": int(time.time())}
        self.intents[intent["id"]] = intent
        if params.get("confirm") != "true":
            return _json(200, intent)
        if "chargeDeclined" in method:
            intent.update(status="requires_payment_method", last_payment_error={
                "type": "card_error", "code": "card_declined",
                "decline_code": "generic_decline", "message": "Your card was declined.",
                "payment_method": {"id": method, "object": "payment_method"}})
            self._async_send("payment_intent.payment_failed", dict(intent))
            error = {"type": "card_error", "code": "card_declined",
                     "decline_code": "generic_decline", "message": "Your card was declined.",
                     "payment_intent": dict(intent)}
            return _json(402, {"error": error})
        if sepa:
            intent["status"] = "processing"
            self._async_send("payment_intent.processing", dict(intent))
            return _json(200, intent)
        self._intent_settled(intent)
        return _json(200, intent)

    def _intent_refund(self, intent: dict[str, Any], params: dict[str, Any]) -> Response:
        """A refund of an off-session PaymentIntent (in full, or `amount`)."""
        left = intent["amount"] - intent.get("_refunded", 0)
        amount = int(params.get("amount") or left)
        if not 0 < amount <= left:
            return _json(400, _error("amount_too_large", "Refund amount is greater than "
                                     "the unrefunded amount on the charge.", "amount"))
        intent["_refunded"] = intent.get("_refunded", 0) + amount
        refund = {"id": _id("re"), "object": "refund", "amount": amount,
                  "currency": intent["currency"], "payment_intent": intent["id"],
                  "charge": intent.get("latest_charge"), "status": "succeeded",
                  "metadata": params.get("metadata") or {}, "created": int(time.time())}
        self.refunds[refund["id"]] = refund
        charge = {"id": intent.get("latest_charge") or _id("ch"), "object": "charge",
                  "amount": intent["amount"], "amount_captured": intent["amount"],
                  "amount_refunded": intent["_refunded"], "currency": intent["currency"],
                  "customer": intent.get("customer"), "payment_intent": intent["id"],
                  "metadata": intent.get("metadata") or {}, "paid": True,
                  "refunded": intent["_refunded"] >= intent["amount"], "status": "succeeded",
                  "livemode": False, "created": intent["created"]}
        self._async_send("charge.refunded", charge)
        return _json(200, refund)

    def _intent_settled(self, intent: dict[str, Any]) -> None:
        intent.update(status="succeeded", amount_received=intent["amount"],
                      latest_charge=intent.get("latest_charge") or _id("ch"))
        self._async_send("payment_intent.succeeded", dict(intent))

    def _async_send(self, event_type: str, obj: dict[str, Any]) -> None:
        """Without a webhook URL the event waits in the outbox at once (the test delivers it);
        with one it is delivered after the API answer, like Stripe."""
        if self.webhook_url:
            self._later(lambda: self._send(event_type, obj))
        else:
            self._send(event_type, obj)

    def settle_intent(self, intent_id: str, outcome: str) -> dict[str, Any]:
        """A SEPA debit's outcome, days after it was submitted."""
        intent = self.intents[intent_id]
        if outcome == "succeeded":
            intent.update(status="succeeded", amount_received=intent["amount"],
                          latest_charge=intent.get("latest_charge") or _id("ch"))
            return self._send("payment_intent.succeeded", dict(intent))
        intent.update(status="requires_payment_method", last_payment_error={
            "type": "invalid_request_error", "code": "payment_method_not_available",
            "decline_code": "insufficient_funds",
            "message": "The customer's bank account has insufficient funds."})
        return self._send("payment_intent.payment_failed", dict(intent))

    def dispute_intent(self, intent_id: str, reason: str = "insufficient_funds"
                       ) -> dict[str, Any]:
        """A succeeded SEPA debit returned by the payer's bank weeks later: Stripe opens a
        dispute on the charge (SEPA disputes cannot be contested)."""
        intent = self.intents[intent_id]
        dispute = {"id": _id("dp"), "object": "dispute", "amount": intent["amount"],
                   "currency": intent["currency"],
                   "charge": intent.get("latest_charge") or _id("ch"),
                   "payment_intent": intent["id"], "reason": reason, "status": "lost",
                   "livemode": False, "created": int(time.time())}
        return self._send("charge.dispute.created", dispute)

    # --- Objects in events -----------------------------------------------------------------------

    def _intent(self, session: dict[str, Any], status: str,
                error: dict[str, Any] | None = None) -> dict[str, Any]:
        return {"id": session["_pi"], "object": "payment_intent",
                "amount": session["amount_total"], "currency": session["currency"],
                "customer": session["customer"], "metadata": session["_intent_metadata"],
                "payment_method": session.setdefault("_payment_method", _id("pm")),
                "payment_method_types": session["payment_method_types"],
                "setup_future_usage": session["_setup_future_usage"], "status": status,
                "last_payment_error": error, "livemode": False,
                "created": session["created"]}

    def _charge(self, session: dict[str, Any]) -> dict[str, Any]:
        charge_id = session.setdefault("_charge_id", _id("ch"))
        refunded = session.get("_refunded", 0)
        return {"id": charge_id, "object": "charge", "amount": session["amount_total"],
                "amount_captured": session["amount_total"], "amount_refunded": refunded,
                "currency": session["currency"], "customer": session["customer"],
                "payment_intent": session["_pi"],
                "metadata": session["_intent_metadata"], "paid": True,
                "refunded": refunded >= session["amount_total"], "status": "succeeded",
                "livemode": False, "created": session["created"]}

    # --- Events --------------------------------------------------------------------------------

    def event(self, event_type: str, obj: dict[str, Any]) -> dict[str, Any]:
        return {"id": _id("evt"), "object": "event", "api_version": API_VERSION,
                "created": int(time.time()), "data": {"object": obj}, "livemode": False,
                "pending_webhooks": 1, "request": {"id": None, "idempotency_key": None},
                "type": event_type}

    def _send(self, event_type: str, obj: dict[str, Any]) -> dict[str, Any]:
        event = self.event(event_type, obj)
        payload = json.dumps(event)
        header = signature_header(payload, self.secret)
        record = {"id": event["id"], "type": event_type, "status": None}
        with self.lock:
            self.events.append(record)
        if not self.webhook_url:
            with self.lock:
                self.outbox.append((payload.encode(), header))
            return event
        if not self._deliver(payload, record):
            self._later(lambda: self._retry(payload, record))
        return event

    def _deliver(self, payload: str, record: dict[str, Any]) -> bool:
        """POST the event, signed now (Stripe signs each delivery attempt afresh)."""
        assert self.webhook_url  # noqa: S101
        request = urllib.request.Request(  # noqa: S310 (configured webhook URL)
            self.webhook_url, data=payload.encode(), method="POST",
            headers={"Content-Type": "application/json; charset=utf-8",
                     "Stripe-Signature": signature_header(payload, self.secret),
                     "User-Agent": "Stripe/1.0 (stand-in)"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                record["status"] = response.status
        except urllib.error.HTTPError as exc:
            record["status"] = exc.code
        except OSError as exc:
            record["status"] = f"error: {exc}"
        return isinstance(record["status"], int) and 200 <= record["status"] < 300

    def _retry(self, payload: str, record: dict[str, Any], attempts: int = 5) -> None:
        """Like Stripe, retry a failed delivery (here: a few times, seconds apart)."""
        for _ in range(attempts):
            time.sleep(RETRY_SECONDS)
            if self._deliver(payload, record):
                return

    def _later(self, send: Callable[[], Any]) -> None:
        """Deliver after the API response, like Stripe (webhooks are asynchronous)."""
        def run() -> None:
            time.sleep(0.05)
            send()

        thread = threading.Thread(target=run, daemon=True)
        self._threads.append(thread)
        thread.start()

    def wait_idle(self, timeout: float = 10) -> None:
        for thread in list(self._threads):
            thread.join(timeout)

    # --- Outcomes (the hosted page and the control endpoints) -----------------------------------

    def pay(self, session_id: str) -> dict[str, Any]:
        session = self.sessions[session_id]
        session.update(status="complete", payment_status="paid", payment_intent=session["_pi"])
        return self._send("checkout.session.completed", _public(session))

    def decline(self, session_id: str) -> dict[str, Any]:
        session = self.sessions[session_id]
        error = {"type": "card_error", "code": "card_declined",
                 "decline_code": "generic_decline", "message": "Your card was declined."}
        return self._send("payment_intent.payment_failed",
                          self._intent(session, "requires_payment_method", error))

    def mandate(self, session_id: str) -> dict[str, Any]:
        session = self.sessions[session_id]
        session.update(status="complete", payment_status="unpaid",
                       payment_intent=session["_pi"])
        return self._send("checkout.session.completed", _public(session))

    def settle(self, session_id: str, outcome: str) -> dict[str, Any]:
        session = self.sessions[session_id]
        if outcome == "succeeded":
            session["payment_status"] = "paid"
            return self._send("checkout.session.async_payment_succeeded", _public(session))
        return self._send("checkout.session.async_payment_failed", _public(session))

    def expire(self, session_id: str) -> dict[str, Any]:
        session = self.sessions[session_id]
        session["status"] = "expired"
        return self._send("checkout.session.expired", _public(session))

    def refund(self, session_id: str) -> dict[str, Any]:
        session = self.sessions[session_id]
        self._refund(session, session["amount_total"] - session.get("_refunded", 0), {})
        return self._send("charge.refunded", self._charge(session))

    def _control(self, method: str, rest: str, query: dict[str, str]) -> Response:
        if rest == "events" and method == "GET":
            with self.lock:
                return _json(200, {"data": list(self.events)})
        if rest == "fail-next" and method == "POST":
            with self.lock:
                self.fail_next.extend([int(query.get("status", "500"))]
                                      * int(query.get("count", "1")))
            return _json(200, {"ok": True})
        if rest == "delay-next" and method == "POST":
            with self.lock:
                self.delay_next.extend([float(query.get("seconds", "1"))]
                                       * int(query.get("count", "1")))
            return _json(200, {"ok": True})
        m = re.fullmatch(r"payment_intents/(\w+)/(settle|dispute)", rest)
        if m and method == "POST":
            intent_id, action = m.groups()
            event = (self.settle_intent(intent_id, query.get("outcome", "succeeded"))
                     if action == "settle" else self.dispute_intent(intent_id))
            return _json(200, {"event": event["id"], "type": event["type"]})
        m = re.fullmatch(r"sessions/(\w+)/(settle|refund|expire|pay)", rest)
        if not m or method != "POST":
            return _json(404, _error("invalid_request_error", "Unknown control endpoint."))
        session_id, action = m.groups()
        if action == "settle":
            event = self.settle(session_id, query.get("outcome", "succeeded"))
        elif action == "refund":
            event = self.refund(session_id)
        elif action == "expire":
            event = self.expire(session_id)
        else:
            event = {"pay": self.pay, "decline": self.decline,
                     "mandate": self.mandate}[query.get("action", "pay")](session_id)
        return _json(200, {"event": event["id"], "type": event["type"]})

    # --- Hosted page ---------------------------------------------------------------------------

    def _page(self, method: str, session_id: str, body: str) -> Response:
        session = self.sessions[session_id.strip("/")]
        if method == "POST":
            action = dict(parse_qsl(body)).get("action", "")
            target = session["success_url"]
            if action == "pay" and "card" in session["payment_method_types"]:
                self.pay(session["id"])
            elif action == "mandate":
                self.mandate(session["id"])
            elif action == "decline":
                self.decline(session["id"])
                target = session["cancel_url"] or target
            else:
                target = session["cancel_url"] or target
            target = target.replace("{CHECKOUT_SESSION_ID}", quote(session["id"]))
            return "303 See Other", [("Location", target)], b""
        return "200 OK", [("Content-Type", "text/html; charset=utf-8")], \
            self._page_html(session).encode()

    def _page_html(self, session: dict[str, Any]) -> str:
        e = html.escape
        amount = f"{session['amount_total'] // 100},{session['amount_total'] % 100:02d} €"
        rows = "".join(
            f"<li>{e(str((i.get('price_data') or {}).get('product_data', {}).get('name', '')))}"
            f" — {int((i.get('price_data') or {}).get('unit_amount', 0)) / 100:.2f} €</li>"
            for i in session["_line_items"])
        sepa = "sepa_debit" in session["payment_method_types"]
        if session["status"] != "open":
            actions = "<p><strong>Cette session de paiement est terminée.</strong></p>"
        elif sepa:
            actions = ("<p>Prélèvement SEPA : en validant, vous signez un mandat de "
                       "prélèvement (IBAN de test FR76 3000 6000 0112 3456 7890 189).</p>"
                       "<button name='action' value='mandate'>Valider le mandat</button> "
                       "<button name='action' value='cancel'>Annuler</button>")
        else:
            actions = ("<p>Carte bancaire : aucun numéro de carte n'est demandé en mode "
                       "test.</p><button name='action' value='pay'>Payer</button> "
                       "<button name='action' value='decline'>Simuler un refus</button> "
                       "<button name='action' value='cancel'>Annuler</button>")
        return f"""<!doctype html><html lang="fr"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Paiement — mode test</title>
<style>body{{font-family:system-ui,sans-serif;max-width:34rem;margin:2rem auto;padding:0 1rem}}
.test{{background:#fff3cd;border:1px solid #e0b400;padding:.6rem 1rem;border-radius:6px}}
button{{font-size:1rem;padding:.5rem 1rem;margin:.2rem}}</style></head><body>
<p class="test" role="status"><strong>Mode test — aucun paiement réel.</strong>
Cette page imite la page de paiement hébergée de Stripe.</p>
<h1>Paiement de {e(amount)}</h1>
<p>Commande {e(str(session.get('client_reference_id') or ''))}</p>
<ul>{rows}</ul>
<form method="post" action="/pay/{e(session['id'])}">{actions}</form>
</body></html>"""


def _public(session: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in session.items() if not k.startswith("_")}


def _error(code: str, message: str, param: str | None = None) -> dict[str, Any]:
    return {"error": {"type": "invalid_request_error", "code": code, "message": message,
                      "param": param}}


def _json(status: int, data: Any) -> Response:
    reasons = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 402: "Request Failed",
               404: "Not Found", 409: "Conflict", 429: "Too Many Requests",
               500: "Internal Server Error", 503: "Service Unavailable"}
    return (f"{status} {reasons.get(status, 'Error')}",
            [("Content-Type", "application/json"),
             ("Request-Id", f"req_{secrets.token_hex(7)}")],
            json.dumps(data).encode())


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def make_standin_server(app: StandIn, host: str = "127.0.0.1", port: int = 0) -> WSGIServer:
    server = make_server(host, port, app, server_class=_ThreadingServer,
                         handler_class=_QuietHandler)
    if not app.base_url:
        app.base_url = f"http://{host}:{server.server_port}"
    return server
