"""Quote e-mails that need more than plain text (the PDF attached), and the daily job that
reminds before expiry and expires sent quotes. Registered with the scheduler at startup
(see `register_quote_jobs`, called from the shop app's ready())."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation
from django_tasks import task

from permanence.core import clock
from permanence.core.tasks import retry_delay

logger = logging.getLogger(__name__)

HOUSEKEEPING_EVERY = timedelta(hours=1)


@task(queue_name="email")
def send_quote(quote_id: int, attempt: int = 1) -> str:
    """The quote to its requester: a short message, the public link, the PDF attached."""
    from .models import Quote, QuoteStatus
    from .quote_documents import quote_pdf, quote_pdf_filename

    quote = Quote.objects.select_related("requested_by", "account").get(pk=quote_id)
    if quote.status != QuoteStatus.SENT:
        return "skipped"
    language = getattr(quote.requested_by, "language", "") or settings.LANGUAGE_CODE
    with translation.override(language):
        context: dict[str, Any] = {"quote": quote, "site_url": settings.SITE_URL,
                                   "public_url": f"{settings.SITE_URL}/devis/{quote.token}/"}
        subject = " ".join(render_to_string("shop/quotes/email/sent_subject.txt",
                                            context).split())
        body = render_to_string("shop/quotes/email/sent.txt", context)
    message = EmailMultiAlternatives(subject=subject, body=body, to=[quote.requester_email],
                                     from_email=settings.DEFAULT_FROM_EMAIL)
    message.attach(quote_pdf_filename(quote), quote_pdf(quote, language=language),
                   "application/pdf")
    try:
        message.send()
    except Exception as exc:  # SMTP and socket errors alike: retry later
        if attempt >= settings.EMAIL_MAX_ATTEMPTS:
            logger.error("Quote %s: e-mail failed for good after %s attempts: %s",
                         quote.reference, attempt, exc)
            raise
        send_quote.using(run_after=clock.now() + retry_delay(attempt)).enqueue(
            quote_id, attempt + 1)
        return "retry"
    return "sent"


@task()
def quotes_housekeeping() -> str:
    """Reminders N days before validity ends (once per quote), then expiry."""
    from .quotes import quotes_housekeeping as run

    result = run()
    return f"expired={result['expired']} reminded={result['reminded']}"


def register_quote_jobs() -> None:
    from permanence.core.scheduler import every

    every(HOUSEKEEPING_EVERY, name="shop.quotes_housekeeping")(quotes_housekeeping)
