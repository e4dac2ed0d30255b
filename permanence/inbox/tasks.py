from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django_tasks import task

from permanence.accounts.models import ClientAccount, User
from permanence.core import background, clock
from permanence.core.isolation import each_isolated
from permanence.core.mail import queue_email
from permanence.core.scheduler import every
from permanence.core.tasks import retry_delay

from . import delivery, live, reach, selectors
from .models import Conversation, Delivery, Message
from .services import (
    VIEWS_AUDIT_BATCH,
    callback_remind,
    complaint_acknowledged,
    conversation_views_audit,
    sla_recompute_for_account,
)
from .sla_monitor import run
from .surveys.services import survey_create, survey_identity

logger = logging.getLogger(__name__)


@background.register("inbox.send_acknowledgement")
@task(queue_name="email")
def send_acknowledgement(conversation_id: int) -> str:
    """Automatic acknowledgement with the reference and the promised deadline."""
    conversation = Conversation.objects.select_related("account", "contact").get(
        pk=conversation_id)
    result = str(delivery.sender("acknowledgement")(conversation))
    if result == "sent":
        complaint_acknowledged(conversation=conversation, at=clock.now())
    return result


@background.register("inbox.send_survey")
@task(queue_name="email")
def send_survey(conversation_id: int) -> str:
    """After resolution: the satisfaction link (CSAT, and NPS at most every 90 days)."""
    conversation = Conversation.objects.select_related("account", "contact").get(
        pk=conversation_id)
    # Like every mail to the account's contacts: under the account's name, answers thread
    # back to the conversation (the e-mail channel says how: surveys.survey_identity).
    from_header, reply_to = survey_identity(conversation)
    with transaction.atomic():
        survey = survey_create(conversation)
        if survey is None:
            return "skipped"
        url = settings.SITE_URL.rstrip("/") + reverse("survey", args=[survey.token])
        queue_email(
            to=[conversation.contact.email],  # type: ignore[union-attr]
            subject=f"[{conversation.reference}] Votre avis sur notre réponse",
            body=(f"Bonjour,\n\nVotre demande {conversation.reference} « {conversation.subject} » "
                  f"a été traitée par {conversation.account.name}.\n\nDonnez-nous votre avis "
                  f"en une minute : {url}\n\nMerci !\n{conversation.account.name}\n"),
            from_email=from_header, reply_to=[reply_to] if reply_to else None,
        )
    return "sent"


@background.register("inbox.deliver_message")
@task(queue_name="email")
def deliver_message(message_id: int, attempt: int = 1) -> str:
    """Send an agent's reply; retried with back-off, the outcome visible on the message.

    The attempt is claimed first (a conditional UPDATE, see inbox/delivery.py): a duplicated
    task, the sweeper or a second worker gets nothing to send. The mail goes out with no
    transaction open; the outcome is recorded in a short one."""
    message = delivery.message_delivery_claim(message_id=message_id, attempt=attempt)
    if message is None:
        if Message.objects.filter(pk=message_id, delivery_status=Delivery.SENT).exists():
            return "already sent"
        return "skipped"
    send = delivery.reply_sender(message)
    if send is None:
        delivery.message_delivery_mark_undeliverable(
            message=message, attempt=attempt,
            reason=reach.unreachable_reason(message.conversation))
        return "undeliverable"
    try:
        send(message)
    except Exception as exc:  # SMTP or network: record, retry later
        error = f"{exc.__class__.__name__}: {exc}"[:500]
        final = attempt >= delivery.max_attempts()
        if not delivery.message_delivery_mark_failed(message=message, attempt=attempt,
                                                     error=error, final=final):
            return "superseded"  # the sweeper gave this attempt up: the next one owns it
        if final:
            logger.error("Reply %s failed for good: %s", message_id, error)
            return "failed"
        _retry_later(message_id, attempt + 1)
        return "retry"
    delivery.message_delivery_mark_sent(message=message)
    return "sent"


def _retry_later(message_id: int, attempt: int) -> None:
    """Enqueue the next attempt after the back-off. Lost (a crash just before), it is found
    by `replies_sweep`, as it is with a backend that cannot defer (immediate: tests)."""
    task = deliver_message
    if not task.get_backend().supports_defer:
        logger.info("Reply %s: attempt %s left to the sweeper", message_id, attempt)
        return
    task.using(run_after=clock.now() + retry_delay(attempt - 1)).enqueue(message_id, attempt)


@every(timedelta(minutes=5), name="inbox.replies_sweep")
@task(queue_name="email")
def replies_sweep() -> str:
    """Periodic: enqueue again the replies whose delivery was lost (the wake-up after the
    commit, a retry, or a worker that died while sending); give up those out of attempts."""
    overdue = delivery.message_delivery_overdue()
    # One reply's failure is logged and skipped: the others are still re-enqueued.
    done = each_isolated(overdue, lambda row: deliver_message.enqueue(*row),
                         job="inbox.replies_sweep", key=lambda row: row[0])
    return f"requeued {len(done.results)}"


# Written in the recipient's language (User.language, French by default).
NOTIFICATION_TEXT = {
    "assigned": _("Le dossier %(ref)s vous est attribué : %(subject)s"),
    "mention": _("Vous êtes mentionné(e) dans le dossier %(ref)s : %(subject)s"),
    "sla_warning": _("Le dossier %(ref)s approche de son échéance : %(subject)s"),
    "sla_breach": _("Le dossier %(ref)s a dépassé son échéance : %(subject)s"),
    "instruction": _("Consigne du client sur le dossier %(ref)s : %(subject)s"),
    "callback": _("Rappel prévu maintenant, dossier %(ref)s : %(subject)s"),
}


@background.register("inbox.notify")
@task()
def notify(user_id: int, conversation_id: int, kind: str, message_id: int | None) -> str:
    """In-app notification (stored, pushed live) and e-mail when the user wants it."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    conversation = Conversation.objects.filter(pk=conversation_id).first()
    if user is None or conversation is None:
        return "skipped"
    with translation.override(getattr(user, "language", None) or settings.LANGUAGE_CODE):
        text = (NOTIFICATION_TEXT[kind] % {"ref": conversation.reference,
                                           "subject": conversation.subject})[:300]
    live.notification_for_conversation(user=user, conversation=conversation, kind=kind,
                                       text=text)
    return "ok"


@task()
def sla_check() -> str:
    """Periodic: warn at the policy's ratio (75 %), record breaches, notify."""

    return run()


@task()
def callbacks_remind() -> str:
    """Periodic: tell the agents whose planned call backs (« Rappeler plus tard ») are due."""
    due = selectors.callbacks_due(clock.now())
    done = each_isolated(due, callback_remind, job="inbox.callbacks_remind")
    return f"reminded {done.count()}"


@task()
def views_audit() -> str:
    """Periodic: copy the conversation views kept on read markers into the audit log."""
    copied = total = conversation_views_audit()
    while copied == VIEWS_AUDIT_BATCH:
        copied = conversation_views_audit()
        total += copied
    return f"copied {total}"




@task()
def sla_recompute(account_ids: list[int]) -> int:
    """After a calendar or policy change: new due instants for the accounts' open files."""

    # One account's failure (a calendar that never opens) is logged and skipped.
    return sum(each_isolated(list(ClientAccount.objects.filter(pk__in=account_ids)),
                             sla_recompute_for_account, job="inbox.sla_recompute",
                             key=lambda account: account.pk).results)
