"""Helpers for the provider calls journal (ProviderCall) shared by the services that call
Stripe: the parameters as sent, the answer or the failure recorded in a second short
transaction."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction

from permanence.core import clock
from permanence.core.errors import DomainError

from .models import ProviderCall, ProviderCallStatus

logger = logging.getLogger(__name__)


def as_sent(params: Any) -> Any:
    """The stored parameters with their keys in one fixed order, so every try of a call sends
    the very same request body (a key may only be reused with the same parameters), whether
    the dict comes from the code or back from the database (PostgreSQL's jsonb does not keep
    key order)."""
    if isinstance(params, dict):
        return {key: as_sent(params[key]) for key in sorted(params)}
    if isinstance(params, list):
        return [as_sent(item) for item in params]
    return params


def call_succeeded(call: ProviderCall, answer: dict[str, Any]) -> None:
    call.status = ProviderCallStatus.SUCCEEDED
    call.response_id = str(answer.get("id") or "")[:120]
    call.response = answer
    call.error = ""
    call.completed_at = clock.now()


def call_failed(call: ProviderCall, exc: BaseException) -> None:
    """Transaction 2 after a failed call: unanswered (the next try resends the same key) or
    refused (the provider answered with an error). Never hides the caller's exception."""
    unanswered = not isinstance(exc, DomainError) or exc.code == "provider_unavailable"
    detail = str(exc.message) if isinstance(exc, DomainError) else f"{type(exc).__name__}: {exc}"
    try:
        with transaction.atomic():
            locked = ProviderCall.objects.select_for_update().get(pk=call.pk)
            if locked.status != ProviderCallStatus.PENDING:
                return  # a concurrent try of the same call got its answer
            locked.status = (ProviderCallStatus.UNANSWERED if unanswered
                             else ProviderCallStatus.REFUSED)
            locked.error = detail[:300]
            locked.completed_at = clock.now()
            locked.save(update_fields=["status", "error", "completed_at", "updated_at"])
    except Exception:  # the row stays pending, which a retry treats the same way
        logger.exception("could not record the failure of provider call %s", call.pk)
