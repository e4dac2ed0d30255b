"""Outgoing e-mail always goes through the worker, after the transaction commits."""

from __future__ import annotations

from email.utils import make_msgid

from django.conf import settings
from django.db import transaction

from .tasks import send_email


def queue_email(*, to: list[str], subject: str, body: str, html: str | None = None,
                reply_to: list[str] | None = None, from_email: str | None = None) -> None:
    """`from_email`: the From header (default: DEFAULT_FROM_EMAIL, the platform's own
    address); mail to an account's contacts goes out under the account's name instead."""
    # The Message-ID is chosen now, once: every run of the task (a retry, or a run again after
    # its worker died — core/task_leases.py) sends the same message, which receivers
    # de-duplicate on.
    payload = {"to": to, "subject": subject, "body": body, "html": html,
               "reply_to": reply_to or [], "from_email": from_email,
               "message_id": make_msgid(domain=_domain(from_email))}
    # ENQUEUE_ON_COMMIT also defers, but being explicit keeps it true for any backend.
    transaction.on_commit(lambda: send_email.enqueue(payload, 1))


def _domain(from_email: str | None) -> str:
    address = (from_email or settings.DEFAULT_FROM_EMAIL).rsplit("<", 1)[-1].rstrip("> ")
    return address.rsplit("@", 1)[-1] or "permanence.local"
