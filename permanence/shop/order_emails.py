"""E-mails to the buyer at each step of an order (sent by the worker after commit)."""

from __future__ import annotations

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from permanence.core.mail import queue_email

from .models import Order, OrderStatus
from .tasks import queue_order_confirmation

# status reached → template stem under shop/email/
TEMPLATES = {
    OrderStatus.PAID: "paid",
    OrderStatus.PAYMENT_PROCESSING: "processing",
    OrderStatus.VALIDATED: "validated",
    OrderStatus.ACTIVATED: "activated",
    OrderStatus.FAILED: "failed",
    OrderStatus.CANCELLED: "cancelled",
    OrderStatus.REFUNDED: "refunded",
}


def order_email(order: Order, stem: str, **extra: object) -> None:
    language = getattr(order.buyer, "language", "") or settings.LANGUAGE_CODE
    with translation.override(language):
        context = {"order": order, "site_url": settings.SITE_URL, **extra}
        subject = render_to_string(f"shop/email/{stem}_subject.txt", context).strip()
        body = render_to_string(f"shop/email/{stem}.txt", context)
    subject = " ".join(subject.split())
    if stem == "confirmation":
        # A durable medium: the CGV accepted with the order go with it as a PDF.
        queue_order_confirmation(to=[order.billing_email], subject=subject, body=body,
                                 terms_id=order.terms_id)
        return
    queue_email(to=[order.billing_email], subject=subject, body=body)


def order_status_changed(order: Order, previous: str, to: str) -> None:
    stem = TEMPLATES.get(to)  # type: ignore[call-overload]
    if stem:
        order_email(order, stem, previous=previous,
                    retry_path=f"/commande/{order.reference}/payer/")
