from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django_tasks import task

from . import clock
from .models import WorkerHeartbeat

logger = logging.getLogger(__name__)


def retry_delay(attempt: int) -> timedelta:
    """Exponential back-off: 1, 2, 4, 8… minutes."""
    return timedelta(minutes=2 ** (attempt - 1))


@task(queue_name="email")
def send_email(payload: dict[str, Any], attempt: int = 1) -> str:
    """Send one message; on failure, re-enqueue itself later until EMAIL_MAX_ATTEMPTS."""
    message = EmailMultiAlternatives(
        subject=payload["subject"], body=payload["body"], to=payload["to"],
        reply_to=payload.get("reply_to") or None,
        from_email=payload.get("from_email") or settings.DEFAULT_FROM_EMAIL,
        # Chosen when queued (core.mail): the same on every run of this e-mail.
        headers={"Message-ID": payload["message_id"]} if payload.get("message_id") else None,
    )
    if payload.get("html"):
        message.attach_alternative(payload["html"], "text/html")
    try:
        message.send()
    except Exception as exc:  # SMTP and socket errors alike: retry later
        if attempt >= settings.EMAIL_MAX_ATTEMPTS:
            logger.error("E-mail to %s failed for good after %s attempts: %s",
                         payload["to"], attempt, exc)
            raise
        logger.warning("E-mail to %s failed (attempt %s): %s", payload["to"], attempt, exc)
        send_email.using(run_after=clock.now() + retry_delay(attempt)).enqueue(
            payload, attempt + 1
        )
        return "retry"
    return "sent"


@task()
def record_scheduler_tick() -> str:
    """A periodic job proving the scheduler → queue → worker chain works end to end."""

    now = clock.now()
    WorkerHeartbeat.objects.update_or_create(
        name="scheduler-tick", defaults={"kind": "tick", "beat_at": now}
    )
    # Workers get a new name at each start: forget the ones silent for a day.
    WorkerHeartbeat.objects.filter(beat_at__lt=now - timedelta(days=1)).delete()
    return "ok"
