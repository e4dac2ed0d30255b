"""The one place that talks to Stripe (the official `stripe` library, StripeClient).

Configured by settings: STRIPE_SECRET_KEY, STRIPE_API_BASE (the local stand-in in tests and
in test mode), STRIPE_WEBHOOK_SECRET, STRIPE_WEBHOOK_TOLERANCE. Every POST carries an
idempotency key. Provider errors become DomainError with a French message (502/503)."""

from __future__ import annotations

import functools
from typing import Any

import stripe
from django.conf import settings
from django.utils.translation import gettext as _

from permanence.core.errors import DomainError

TIMEOUT_SECONDS = 20


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
    try:
        session = client().v1.checkout.sessions.create(
            params,  # type: ignore[arg-type]
            {"idempotency_key": idempotency_key})
    except stripe.StripeError as exc:
        raise _provider_error(exc) from exc
    return _plain(session)


def checkout_session_retrieve(session_id: str) -> dict[str, Any]:
    try:
        session = client().v1.checkout.sessions.retrieve(session_id)
    except stripe.StripeError as exc:
        raise _provider_error(exc) from exc
    return _plain(session)


def refund_create(params: dict[str, Any], *, idempotency_key: str) -> dict[str, Any]:
    try:
        refund = client().v1.refunds.create(
            params,  # type: ignore[arg-type]
            {"idempotency_key": idempotency_key})
    except stripe.StripeError as exc:
        raise _provider_error(exc) from exc
    return _plain(refund)


def verify_signature(payload: bytes, header: str | None) -> None:
    """Raise stripe.SignatureVerificationError unless `header` signs `payload` with our
    webhook secret within the timestamp tolerance."""
    secret = settings.STRIPE_WEBHOOK_SECRET
    if not secret:
        raise stripe.SignatureVerificationError("STRIPE_WEBHOOK_SECRET is not configured",
                                                header, payload)
    stripe.WebhookSignature.verify_header(payload, header, secret,
                                          tolerance=settings.STRIPE_WEBHOOK_TOLERANCE)


def sign(payload: str, secret: str, timestamp: int | None = None) -> str:
    """The Stripe-Signature header for `payload` (tests, the stand-in, the benchmark)."""
    return stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp)
