"""Background work of « Transmettre »: the e-mail of one forward, and the escalation job."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django_tasks import task

from permanence.core import background, clock
from permanence.core.isolation import each_isolated
from permanence.core.scheduler import every

from . import forwarding
from .models import ForwardStatus

logger = logging.getLogger(__name__)


@background.register("desk.forward_email")
@task(queue_name="email")
def forward_email(forward_id: int) -> str:
    """Send the e-mail of one forward: claimed first (a duplicate finds nothing), sent with
    no transaction open, its outcome recorded (envoyé, or échec with the reason)."""
    forward = forwarding.forward_email_claim(forward_id=forward_id)
    if forward is None or forward.call is None:
        return "skipped"
    subject, body = forwarding.email_content(forward, forward.call)
    try:
        EmailMessage(subject=subject, body=body, to=[forward.address],
                     from_email=settings.DEFAULT_FROM_EMAIL).send()
    except Exception as exc:  # SMTP and socket errors alike: the proof shows the failure
        logger.warning("Forward %s to %s failed: %s", forward_id, forward.address, exc)
        forwarding.forward_status_record(forward_id=forward_id, status=ForwardStatus.FAILED,
                                         reason=f"{exc.__class__.__name__}: {exc}")
        return "failed"
    forwarding.forward_status_record(forward_id=forward_id, status=ForwardStatus.SENT)
    return "sent"


@every(timedelta(minutes=1), name="desk.forwards_escalate")
@task()
def forwards_escalate() -> str:
    """Urgent messages nobody acknowledged in time go to the next recipients; one call's
    failure is logged and skipped, the others still escalate."""
    due = forwarding.forwards_due_for_escalation(now=clock.now())
    outcome = each_isolated(due, lambda call_id: bool(forwarding.forward_escalate(
        call_id=call_id)), job="desk.forwards_escalate")
    return f"escalated {len(outcome.results)}, failed {len(outcome.failed)}"


@every(timedelta(minutes=5), name="desk.forwards_sweep")
@task(queue_name="email")
def forwards_sweep() -> str:
    """E-mail forwards whose wake-up was lost are sent again (see forward_emails_lost)."""
    lost = forwarding.forward_emails_lost(now=clock.now())
    done = each_isolated(lost, forward_email.enqueue,
                         job="desk.forwards_sweep")
    return f"requeued {len(done.results)}"
