"""Payments: starting a payment for an order (Stripe hosted Checkout or bank transfer)."""

from __future__ import annotations

from typing import Any

from .models import Payment


def payment_start(*, order: Any, method: str, success_url: str, cancel_url: str) -> Payment:
    """Start paying `order` with `method` (shop.PaymentMethod: carte, sepa, virement).

    Card / SEPA: creates a Stripe Checkout Session (idempotency key) and returns the Payment
    whose `checkout_url` the buyer is redirected to. Transfer: returns a pending Payment; the
    buyer is shown the instructions (IBAN, order.transfer_reference)."""
    raise NotImplementedError  # implemented by the payments work (issue 4)
