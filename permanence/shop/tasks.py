"""The order confirmation on a durable medium: the e-mail carries the accepted CGV as a PDF.

core/mail.queue_email has no attachments, so the confirmation goes through this task: the
PDF is rendered by the worker (WeasyPrint is slow), after the order's transaction commits,
and a failed send is retried with the same back-off as core/tasks.send_email."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django_tasks import task

from permanence.catalog.documents import terms_pdf
from permanence.catalog.models import TermsVersion
from permanence.core import clock
from permanence.core.scheduler import every
from permanence.core.tasks import retry_delay

from .cart import carts_purge_abandoned

logger = logging.getLogger(__name__)


def terms_attachment(terms_id: int | None) -> tuple[str, bytes, str] | None:

    terms = TermsVersion.objects.filter(pk=terms_id).first() if terms_id else None
    if terms is None:
        return None
    return (f"CGV-{terms.version}.pdf", terms_pdf(terms), "application/pdf")


@task(queue_name="email")
def send_order_confirmation(payload: dict[str, Any], attempt: int = 1) -> str:
    """payload: to, subject, body, terms_id (the CGV version accepted with the order)."""
    message = EmailMultiAlternatives(
        subject=payload["subject"], body=payload["body"], to=payload["to"],
        from_email=payload.get("from_email") or settings.DEFAULT_FROM_EMAIL)
    try:
        attachment = terms_attachment(payload.get("terms_id"))
        if attachment is not None:
            message.attach(*attachment)
        message.send()
    except Exception as exc:  # PDF rendering, SMTP and socket errors alike: retry later
        if attempt >= settings.EMAIL_MAX_ATTEMPTS:
            logger.error("Order confirmation to %s failed for good after %s attempts: %s",
                         payload["to"], attempt, exc)
            raise
        logger.warning("Order confirmation to %s failed (attempt %s): %s", payload["to"],
                       attempt, exc)
        send_order_confirmation.using(run_after=clock.now() + retry_delay(attempt)).enqueue(
            payload, attempt + 1)
        return "retry"
    return "sent"


def queue_order_confirmation(*, to: list[str], subject: str, body: str,
                             terms_id: int | None) -> None:
    payload = {"to": to, "subject": subject, "body": body, "terms_id": terms_id}
    transaction.on_commit(lambda: send_order_confirmation.enqueue(payload, 1))


@task()
def purge_abandoned_carts() -> str:

    return f"{carts_purge_abandoned()} cart(s) deleted"


def register_cart_jobs() -> None:
    """Called from ShopConfig.ready(): abandoned anonymous carts are purged every 6 hours."""

    every(timedelta(hours=6), name="shop.purge_abandoned_carts")(purge_abandoned_carts)
