"""Helpers for the e-mail tests: build a message, send it over a real SMTP session."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

ADDRESS = "accueil@cabinet-martin.fr"
OTHER_ADDRESS = "contact@durand-avocats.fr"
CUSTOMER = "jeanne.dupont@example.org"
GATEWAY_MAX_BYTES = 1024 * 1024  # 1 Mo: small enough to test refusals quickly


def make_mail(*, subject: str = "Demande de rendez-vous", sender: str = CUSTOMER,
              name: str = "Jeanne Dupont", to: str = ADDRESS,
              body: str = "Bonjour, je souhaite un rendez-vous mardi.",
              headers: dict[str, str] | None = None) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = f"{name} <{sender}>" if name else sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = make_msgid(domain="example.org")
    for key, value in (headers or {}).items():
        msg[key] = value
    msg.set_content(body)
    return msg


def send(port: int, msg: EmailMessage | bytes, *, mail_from: str = CUSTOMER,
         to: list[str] | None = None) -> dict[str, Any]:
    """One real SMTP session; returns smtplib's refused-recipients dict (empty = all ok)."""
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        if isinstance(msg, bytes):
            return client.sendmail(mail_from, to or [ADDRESS], msg)
        return client.send_message(msg, from_addr=mail_from, to_addrs=to or [msg["To"]])
