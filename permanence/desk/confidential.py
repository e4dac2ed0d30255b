"""Which of the desk's texts are stored encrypted (core.crypto): a medical account's call
messages and answers (health data, GDPR art. 9), and consignes marked confidential or
written for a medical account. Sealed text is not found by the call search."""

from __future__ import annotations

from typing import Any

from permanence.accounts.models import ClientAccount, Sector
from permanence.core.crypto import Sealed
from permanence.core.fields import SealedDict


def is_confidential(account: ClientAccount | None) -> bool:
    return account is not None and account.sector == Sector.MEDICAL


def protect_text(account: ClientAccount | None, text: str) -> str:
    return Sealed(text) if text and is_confidential(account) else text


def protect_document(account: ClientAccount | None, doc: dict[str, Any], *,
                     marked: bool = False) -> dict[str, Any]:
    return SealedDict(doc) if marked or is_confidential(account) else doc
