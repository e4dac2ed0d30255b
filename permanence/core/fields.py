"""Model fields whose values may be stored encrypted (core.crypto), row by row: the service
that writes decides (a medical account's message is sealed, a shop's is not) by handing a
Sealed text or a SealedDict; readers get plain values either way. A sealed value cannot be
found by a database search (icontains, full text): the owners of these fields say so where
they search."""

from __future__ import annotations

import json
from typing import Any

from django.db import models

from .crypto import Sealed, Unreadable, is_sealed_token, seal, unseal


class SealedDict(dict):  # type: ignore[type-arg]
    """A JSON object stored encrypted (see Sealed)."""


class UnreadableDict(SealedDict):
    """A sealed JSON object no configured key opens: empty to readers, saved back as it was."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token


class SealableTextField(models.TextField):  # type: ignore[type-arg]
    """`always=True`: every non-empty value is sealed, whoever writes it (a credential)."""

    def __init__(self, *args: Any, always: bool = False, **kwargs: Any) -> None:
        self.always = always
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        if self.always:
            kwargs["always"] = True
        return name, path, args, kwargs

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        return unseal(value) if isinstance(value, str) else value

    def to_python(self, value: Any) -> Any:
        value = super().to_python(value)
        return unseal(value) if isinstance(value, str) else value

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if isinstance(value, Sealed) or (self.always and isinstance(value, str)):
            return seal(value)
        return value


class SealableJSONField(models.JSONField):  # type: ignore[type-arg]
    """Sealed objects are stored as one JSON string (PREFIX + token), so the column keeps its
    type and the plain rows of the same column still work."""

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        value = super().from_db_value(value, expression, connection)
        if not is_sealed_token(value):
            return value
        plain = unseal(value)
        if isinstance(plain, Unreadable):
            return UnreadableDict(plain.token)
        return SealedDict(json.loads(plain))

    def get_prep_value(self, value: Any) -> Any:
        if isinstance(value, UnreadableDict):
            return value.token
        if isinstance(value, SealedDict):
            return seal(Sealed(json.dumps(value, cls=self.encoder)))
        return super().get_prep_value(value)
