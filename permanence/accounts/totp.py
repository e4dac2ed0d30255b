"""Time-based one-time passwords (RFC 6238 over RFC 4226), written here on hmac/hashlib so
that staff two-factor authentication needs no extra package.

Codes: HMAC-SHA-1, 6 digits, 30-second steps, one step of drift accepted either way. The
caller stores the last accepted step, and `totp_verify` refuses any step at or before it, so
a code seen over a shoulder cannot be used a second time.

The shared secret is kept encrypted at rest (Fernet, under a key derived from SECRET_KEY with
a purpose of its own): a copy of the database alone does not give the codes. Rotating
SECRET_KEY without SECRET_KEY_FALLBACKS makes the stored secrets unreadable: the staff then
sign in with a backup code or an administrator resets their two-factor authentication.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
from typing import Any
from urllib.parse import quote, urlencode

import segno
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

STEP_SECONDS = 30
DIGITS = 6
DRIFT_STEPS = 1
SECRET_BYTES = 20  # 160 bits, the size RFC 4226 recommends for HMAC-SHA-1
ISSUER = "Permanence"


def hotp(key: bytes, counter: int, *, digits: int = DIGITS,
         digest: Any = hashlib.sha1) -> str:
    """RFC 4226: the dynamically truncated HMAC of the 8-byte counter."""
    mac = hmac.new(key, struct.pack(">Q", counter), digest).digest()
    offset = mac[-1] & 0x0F
    value = struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10 ** digits).zfill(digits)


def time_step(unix_time: float, *, step: int = STEP_SECONDS) -> int:
    return int(unix_time // step)


def totp(key: bytes, unix_time: float, *, digits: int = DIGITS, step: int = STEP_SECONDS,
         digest: Any = hashlib.sha1) -> str:
    """RFC 6238: HOTP over the number of `step`-second periods since the Unix epoch."""
    return hotp(key, time_step(unix_time, step=step), digits=digits, digest=digest)


def generate_secret() -> str:
    """A new shared secret, in base32 without padding (what authenticator apps read)."""
    return base64.b32encode(secrets.token_bytes(SECRET_BYTES)).decode().rstrip("=")


def secret_key_bytes(secret_b32: str) -> bytes:
    clean = secret_b32.replace(" ", "").upper()
    return base64.b32decode(clean + "=" * (-len(clean) % 8))


def totp_now(secret_b32: str, unix_time: float) -> str:
    """The current code of a base32 secret (what the authenticator app shows)."""
    return totp(secret_key_bytes(secret_b32), unix_time)


def totp_verify(secret_b32: str, code: str, unix_time: float,
                last_step: int | None) -> int | None:
    """The time step `code` belongs to (within ±DRIFT_STEPS of now), or None when it matches
    none, or only a step at or before `last_step` (a replay)."""
    code = "".join(code.split())
    if len(code) != DIGITS or not code.isdigit():
        return None
    key = secret_key_bytes(secret_b32)
    now_step = time_step(unix_time)
    for candidate in range(now_step - DRIFT_STEPS, now_step + DRIFT_STEPS + 1):
        if last_step is not None and candidate <= last_step:
            continue
        if hmac.compare_digest(hotp(key, candidate), code):
            return candidate
    return None


def grouped(secret_b32: str) -> str:
    """The secret in groups of four letters, easier to type by hand."""
    return " ".join(secret_b32[i:i + 4] for i in range(0, len(secret_b32), 4))


def provisioning_uri(secret_b32: str, account_name: str, issuer: str = ISSUER) -> str:
    """The otpauth:// URI authenticator apps import (Google's Key URI format)."""
    label = quote(f"{issuer}:{account_name}", safe="@:")
    query = urlencode({"secret": secret_b32, "issuer": issuer, "algorithm": "SHA1",
                       "digits": DIGITS, "period": STEP_SECONDS})
    return f"otpauth://totp/{label}?{query}"


def qr_svg(uri: str, title: str) -> str:
    """The URI as a QR code the authenticator app scans: inline SVG (no image file, no
    script, so the Content-Security-Policy has nothing to allow). `title` is its text
    alternative; segno escapes it."""
    return str(segno.make(uri, error="m").svg_inline(
        scale=4, border=4, title=title, svgclass="totp-qr", omitsize=False))


# --- Encryption at rest ------------------------------------------------------------------------

def _fernet_for(secret: str) -> Fernet:
    key = hashlib.sha256(b"permanence.accounts.totp:" + secret.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def _fernet() -> MultiFernet:
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return MultiFernet([_fernet_for(k) for k in keys])


def encrypt_secret(secret_b32: str) -> str:
    return _fernet().encrypt(secret_b32.encode()).decode() if secret_b32 else ""


def decrypt_secret(token: str) -> str:
    """The secret, or "" when it cannot be read (SECRET_KEY changed)."""
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except (InvalidToken, ValueError):
        return ""


# --- Backup codes ------------------------------------------------------------------------------

BACKUP_CODE_COUNT = 10
_BACKUP_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i


def generate_backup_code() -> str:
    raw = "".join(secrets.choice(_BACKUP_ALPHABET) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


def normalise_backup_code(code: str) -> str:
    return "".join(c for c in code.lower() if c.isalnum())


def hash_backup_code(code: str) -> str:
    """Backup codes carry 50 bits of randomness, are single-use and tried under the login
    lockout: a keyed SHA-256 is enough (no slow hash needed to resist guessing)."""
    return hmac.new(b"permanence.accounts.backup-code", normalise_backup_code(code).encode(),
                    hashlib.sha256).hexdigest()
