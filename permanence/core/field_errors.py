"""Per-field error collection, for validators that report every error of an input at once.

Pure Python (no Django import): the business-time engine uses it too. A validator is split
into small parsers, one per field or group of fields; each reports into the same
`FieldErrors`, and the caller raises once at the end with `fields`, in the shape of
`DomainError.fields` (field name → messages, in the order they were found).
"""

from __future__ import annotations

import functools
from collections.abc import Callable


class FieldErrors:
    __slots__ = ("fields",)

    def __init__(self) -> None:
        self.fields: dict[str, list[str]] = {}

    def add(self, name: str, message: str) -> None:
        self.fields.setdefault(name, []).append(message)

    def on(self, name: str) -> Callable[[str], None]:
        """A one-argument reporter for `name`, for parsers that do not know their field."""
        return functools.partial(self.add, name)

    def __bool__(self) -> bool:
        return bool(self.fields)
