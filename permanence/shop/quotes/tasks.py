"""Quote e-mails that need more than plain text (the PDF attached). The services enqueue
them; they call no service (jobs.py holds the periodic job that does)."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation
from django_tasks import task

from permanence.core import clock
from permanence.core.tasks import retry_delay
from permanence.shop.models import Quote, QuoteStatus

from .documents import quote_pdf, quote_pdf_filename

logger = logging.getLogger(__name__)

@task(queue_name="email")
def send_quote(quote_id: int, attempt: int = 1) -> str:
    """The quote to its requester: a short message, the public link, the PDF attached."""
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
