"""The one place that talks to Stripe (the official `stripe` library, StripeClient).

Configured by settings: STRIPE_SECRET_KEY, STRIPE_API_BASE (the local stand-in in tests and
in test mode), STRIPE_WEBHOOK_SECRET, STRIPE_WEBHOOK_TOLERANCE. Every POST carries an
idempotency key. Provider errors become DomainError with a French message (502/503).

No call is made while a database transaction is open (ARCHITECTURE.md, "Side effects"): one
call may last a minute (3 tries × 20 s), and on SQLite an open write transaction holds the
database-wide lock — mail ingestion and webhooks would wait behind it. Every function that
talks to Stripe first calls `ensure_no_transaction()`, which raises
`ProviderCallInTransaction` otherwise; the services write a pending row and commit, call,
then record the answer in a second short transaction (services.py)."""

from __future__ import annotations

import contextlib
import contextvars
import functools
import time
from collections.abc import Iterator
from typing import Any

import stripe
from django.conf import settings
from django.db import connections
from django.utils.translation import gettext as _

from permanence.core.errors import DomainError

TIMEOUT_SECONDS = 20


class ProviderCallInTransaction(RuntimeError):
    """A provider call was about to be made with a database transaction open: a bug (the
    caller must commit first), never the user's doing."""


_calls_in_transaction_allowed: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "stripe_calls_in_transaction_allowed", default=False)


@contextlib.contextmanager
def calls_in_transaction_allowed() -> Iterator[None]:
    """Lift the guard below — for a test that wraps a provider call in a transaction of its
    own on purpose (e.g. to simulate a caller's rollback). Never used by application code."""
    token = _calls_in_transaction_allowed.set(True)
    try:
        yield
    finally:
        _calls_in_transaction_allowed.reset(token)


def open_transactions() -> list[str]:
    """The aliases of this thread's connections that have a transaction open.

    A test run by pytest-django's `db` fixture (django.test.TestCase) is wrapped in atomic
    blocks marked `_from_testcase`; they — and anything opened outside them, such as a
    module-scoped fixture's transaction — stand for the committed, autocommit state the code
    under test starts from (the rule Django applies to `atomic(durable=True)`). Only blocks
    opened inside them count. So the guard is active in production, in `transactional_db`
    tests (no wrapper: every block counts), and in `db` tests for every transaction the code
    under test opens."""
    aliases = []
    for conn in connections.all(initialized_only=True):
        if conn.connection is None:
            continue
        blocks = list(conn.atomic_blocks)
        wrapped = [i for i, block in enumerate(blocks) if getattr(block, "_from_testcase", False)]
        inner = blocks[wrapped[-1] + 1:] if wrapped else blocks
        if inner or (not blocks and not conn.get_autocommit()):
            aliases.append(conn.alias)
    return aliases


def ensure_no_transaction() -> None:
    if _calls_in_transaction_allowed.get():
        return
    aliases = open_transactions()
    if aliases:
        raise ProviderCallInTransaction(
            f"Stripe must not be called with a database transaction open (on {aliases}): "
            "write a pending row, commit, call, then record the answer.")


@functools.lru_cache(maxsize=8)
def _client(api_key: str, api_base: str) -> stripe.StripeClient:
    return stripe.StripeClient(
        api_key,
        base_addresses={"api": api_base},
        max_network_retries=2,  # retried with the same idempotency key
        http_client=stripe.RequestsClient(timeout=TIMEOUT_SECONDS),
    )


def client() -> stripe.StripeClient:
    return _client(settings.STRIPE_SECRET_KEY, settings.STRIPE_API_BASE)


def _provider_error(exc: stripe.StripeError) -> DomainError:
    if isinstance(exc, stripe.APIConnectionError):
        return DomainError("provider_unavailable", _(
            "Le prestataire de paiement est injoignable pour le moment. Réessayez dans "
            "quelques minutes ; aucun paiement n'a été effectué."), status=503)
    if isinstance(exc, stripe.RateLimitError):
        return DomainError("provider_unavailable", _(
            "Le prestataire de paiement est surchargé. Réessayez dans quelques minutes."),
            status=503)
    return DomainError("provider_error", _(
        "Le prestataire de paiement a refusé la demande (%(detail)s). Aucun paiement n'a été "
        "effectué ; réessayez ou choisissez le virement.") % {
            "detail": getattr(exc, "code", None) or type(exc).__name__}, status=502)


def _plain(obj: Any) -> dict[str, Any]:
    """A StripeObject → plain dict (JSON types only)."""
    return obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)


def checkout_session_create(params: dict[str, Any], *, idempotency_key: str) -> dict[str, Any]:
    ensure_no_transaction()
    try:
        session = client().v1.checkout.sessions.create(
            params,  # type: ignore[arg-type]
            {"idempotency_key": idempotency_key})
    except stripe.StripeError as exc:
        raise _provider_error(exc) from exc
    return _plain(session)


def checkout_session_retrieve(session_id: str) -> dict[str, Any]:
    ensure_no_transaction()
    try:
        session = client().v1.checkout.sessions.retrieve(session_id)
    except stripe.StripeError as exc:
        raise _provider_error(exc) from exc
    return _plain(session)


def payment_intent_create(params: dict[str, Any], *,
                          idempotency_key: str) -> dict[str, Any]:
    """Create and confirm a PaymentIntent (off session: a saved card or SEPA mandate).

    A card declined off session is not an error of the request: Stripe answers 402 with the
    PaymentIntent it created (status `requires_payment_method`, `last_payment_error`) in the
    error body — returned here as the answer, like a success, so the caller records the
    attempt; the failure itself is applied when `payment_intent.payment_failed` arrives."""
    ensure_no_transaction()
    try:
        intent = client().v1.payment_intents.create(
            params,  # type: ignore[arg-type]
            {"idempotency_key": idempotency_key})
    except stripe.CardError as exc:
        body = exc.json_body if isinstance(exc.json_body, dict) else {}
        declined = (body.get("error") or {}).get("payment_intent")
        if isinstance(declined, dict) and declined.get("id"):
            return dict(declined)
        raise _provider_error(exc) from exc
    except stripe.StripeError as exc:
        raise _provider_error(exc) from exc
    return _plain(intent)


def refund_create(params: dict[str, Any], *, idempotency_key: str) -> dict[str, Any]:
    ensure_no_transaction()
    try:
        refund = client().v1.refunds.create(
            params,  # type: ignore[arg-type]
            {"idempotency_key": idempotency_key})
    except stripe.StripeError as exc:
        raise _provider_error(exc) from exc
    return _plain(refund)


def verify_signature(payload: bytes, header: str | None) -> None:
    """Raise stripe.SignatureVerificationError unless `header` signs `payload` with our
    webhook secret within the timestamp tolerance, in the past or in the future: Stripe's
    library refuses only the old ones, and a signature dated ahead of our clock is no fresher
    than one dated as far behind (a captured event replayed later, a wrong clock)."""
    secret = settings.STRIPE_WEBHOOK_SECRET
    if not secret:
        raise stripe.SignatureVerificationError("STRIPE_WEBHOOK_SECRET is not configured",
                                                header, payload)
    tolerance = settings.STRIPE_WEBHOOK_TOLERANCE
    stripe.WebhookSignature.verify_header(payload, header, secret, tolerance=tolerance)
    if signature_timestamp(header) > time.time() + tolerance:
        raise stripe.SignatureVerificationError("Timestamp outside the tolerance zone "
                                                "(in the future)", header, payload)


def signature_timestamp(header: str | None) -> int:
    """The `t=` of a Stripe-Signature header (already checked by verify_header)."""
    for item in (header or "").split(","):
        key, _sep, value = item.strip().partition("=")
        if key == "t" and value.strip().lstrip("-").isdigit():
            return int(value)
    raise stripe.SignatureVerificationError("No timestamp in the signature header", header,
                                            b"")


def sign(payload: str, secret: str, timestamp: int | None = None) -> str:
    """The Stripe-Signature header for `payload` (tests, the stand-in, the benchmark)."""
    return stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp)
