"""What recovery registers once the apps are loaded (RecoveryConfig.ready())."""

from __future__ import annotations

from datetime import timedelta

from permanence.core.scheduler import every
from permanence.payments.hooks import register_invoice_payment_hook

from .services import on_invoice_payment
from .tasks import charges_job, dunning_job

# Payments tells us an invoice payment's outcome through its hook: it does not import us.
register_invoice_payment_hook(on_invoice_payment)

every(timedelta(hours=1), name="recovery.charges")(charges_job)
every(timedelta(days=1), name="recovery.dunning")(dunning_job)
