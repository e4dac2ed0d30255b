"""System checks of the kernel's settings (`manage.py check --deploy`)."""

from __future__ import annotations

from typing import Any

from cryptography.fernet import Fernet
from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def field_encryption_keys(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Production keeps its field-encryption keys apart from SECRET_KEY (which rotates for
    other reasons), and each must be a Fernet key."""
    raw = str(getattr(settings, "FIELD_ENCRYPTION_KEYS", "") or "")
    keys = [k.strip() for k in raw.split(",") if k.strip()]
    if not keys:
        return [checks.Warning(
            "FIELD_ENCRYPTION_KEYS is not set: confidential fields are encrypted under a key "
            "derived from SECRET_KEY.",
            hint="python manage.py rotate_encryption_keys --new-key", id="permanence.W001")]
    out: list[checks.CheckMessage] = []
    for n, key in enumerate(keys, start=1):
        try:
            Fernet(key.encode())
        except ValueError:
            out.append(checks.Error(f"FIELD_ENCRYPTION_KEYS: key {n} is not a Fernet key.",
                                    id="permanence.E001"))
    return out
