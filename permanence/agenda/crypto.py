"""Secrets we must give back to another server (a CalDAV password) are stored encrypted
(Fernet: AES-128-CBC with an HMAC), under a key derived from AGENDA_SECRET_KEY, or from
SECRET_KEY when that is not set. Rotating the key means asking for the passwords again."""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


def _fernet() -> Fernet:
    secret = getattr(settings, "AGENDA_SECRET_KEY", "") or settings.SECRET_KEY
    key = hashlib.sha256(b"permanence.agenda.credentials:" + secret.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt(plain: str) -> str:
    return _fernet().encrypt(plain.encode()).decode() if plain else ""


def decrypt(token: str) -> str:
    """The password, or "" when it cannot be read (another key): the sync then says so."""
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except (InvalidToken, ValueError):
        return ""
