"""Field-level encryption of the most sensitive free text (messages taken for medical
accounts, consignes marked confidential): what a database dump, a backup file or a DBA's
query shows of them is ciphertext.

Keys: FIELD_ENCRYPTION_KEYS, comma-separated Fernet keys (AES-128-CBC + HMAC-SHA256). The
first encrypts; every one decrypts. Rotation (README › Sécurité): put a new key first, keep
the old ones after it, run `python manage.py rotate_encryption_keys` (re-encrypts every
sealed value under the first key, in short batches), then drop the old keys. Without the
setting a key is derived from SECRET_KEY (local use; `check --deploy` warns).

A stored value is sealed when it starts with PREFIX; anything else is plain text written
before the row became confidential (or before this module existed), read as it is.
"""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

PREFIX = "fx1:"


class Sealed(str):
    """Text that is stored encrypted. A str for every reader; the database fields
    (core.fields) encrypt it on the way in, and give it back as Sealed on the way out, so a
    row read and saved again stays sealed."""

    __slots__ = ()


class Unreadable(Sealed):
    """A sealed value no configured key opens (a key was dropped too early). Shown as a
    notice; saved back unchanged, so the ciphertext is never overwritten with the notice."""

    token: str

    def __new__(cls, token: str) -> Unreadable:
        self = super().__new__(cls, "[contenu chiffré illisible : clé de chiffrement absente]")
        self.token = token
        return self


def _keys() -> tuple[str, ...]:
    raw = getattr(settings, "FIELD_ENCRYPTION_KEYS", "") or ""
    keys = tuple(k.strip() for k in str(raw).split(",") if k.strip())
    if keys:
        return keys
    derived = hashlib.sha256(b"permanence.fields:" + settings.SECRET_KEY.encode()).digest()
    return (base64.urlsafe_b64encode(derived).decode(),)


@lru_cache(maxsize=4)
def _ring(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(k.encode()) for k in keys])


def ring() -> MultiFernet:
    # Keyed by the keys themselves, so a test (or a process) that changes the setting gets
    # the matching ring without a stale cache.
    return _ring(_keys())


def is_sealed_token(value: object) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def seal(text: str) -> str:
    """The stored form of `text` under the current first key ("" stays "")."""
    if isinstance(text, Unreadable):
        return text.token
    if not text:
        return ""
    return PREFIX + ring().encrypt(str(text).encode()).decode()


def unseal(value: str) -> str:
    """Plain text for a stored value: Sealed when it was encrypted, unchanged otherwise."""
    if not is_sealed_token(value):
        return value
    try:
        return Sealed(ring().decrypt(value[len(PREFIX):].encode()).decode())
    except (InvalidToken, ValueError):
        return Unreadable(value)


def reseal(value: str) -> str:
    """A stored value re-encrypted under the first key (rotation); plain and unreadable
    values are returned unchanged."""
    if not is_sealed_token(value):
        return value
    try:
        return PREFIX + ring().rotate(value[len(PREFIX):].encode()).decode()
    except (InvalidToken, ValueError):
        return value


def generate_key() -> str:
    return Fernet.generate_key().decode()
