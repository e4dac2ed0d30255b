"""What e-invoicing registers once the apps are loaded (EinvoicingConfig.ready()): the
scheduler's jobs. Billing knows nothing of this app: the jobs find the invoices whose PDF is
stored through billing.platform's reads."""

from __future__ import annotations

from datetime import timedelta

from permanence.core.scheduler import every

from .tasks import poll_statuses, transmit_due

every(timedelta(minutes=2), name="einvoicing.transmit")(transmit_due)
every(timedelta(minutes=5), name="einvoicing.poll")(poll_statuses)
