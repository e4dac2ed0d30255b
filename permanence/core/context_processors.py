from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def platform(request: HttpRequest) -> dict[str, Any]:
    """Operator identity for headers/footers; computed lazily so pages that don't use it pay 0."""
    from django.utils.functional import SimpleLazyObject

    from permanence.accounts.services import operator_identity

    return {"operator": SimpleLazyObject(operator_identity)}
