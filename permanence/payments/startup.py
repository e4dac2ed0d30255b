"""What payments registers once the apps are loaded (PaymentsConfig.ready())."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from permanence.core.scheduler import every
from permanence.shop.hooks import register_payment_starter

from . import services
from .tasks import reprocess_provider_events

every(timedelta(minutes=1), name="payments.reprocess_events")(reprocess_provider_events)


def _start_payment(**kwargs: Any) -> Any:
    # Looked up at each call: whoever replaces services.payment_start (a test) is obeyed.
    return services.payment_start(**kwargs)


# The shop starts payments through its hook: it does not import payments (issue 8).
register_payment_starter(_start_payment)
