"""What billing registers once the apps are loaded (BillingConfig.ready())."""

from __future__ import annotations

from permanence.shop.hooks import register_order_activated

from .services import subscriptions_create_for_order

# An activated order gets its subscriptions through the shop's hook: the shop does not import
# billing (issue 8).
register_order_activated(subscriptions_create_for_order)


# Issue 12: the subscriptions' daily job (cancellations due, renewals and their reminders).
from .tasks_lifecycle import register_lifecycle_jobs  # noqa: E402

register_lifecycle_jobs()

# Issue 12: the issued invoice's PDF task ("billing.invoice_pdf"), registered by name.
from . import tasks  # noqa: E402, F401

# Issue 12: usage metered from the real work (calls, forwards, appointments, replies, SMS)
# every 5 minutes, with the consumption alerts it triggers ("billing.meter").
from .tasks_usage import register_usage_jobs  # noqa: E402

register_usage_jobs()

# A paid order gets its invoice at once (the shop's hook), and every day the subscriptions
# whose period opens get theirs.
from datetime import timedelta  # noqa: E402

from permanence.core.scheduler import every  # noqa: E402
from permanence.shop.hooks import register_order_paid  # noqa: E402

from .invoicing import invoice_for_paid_order  # noqa: E402
from .tasks_invoicing import invoicing_run  # noqa: E402

register_order_paid(invoice_for_paid_order)
every(timedelta(hours=1), name="billing.invoicing")(invoicing_run)

# Payment schedules: instalments charged or reminded on their date ("billing.schedules"), and
# the outcome of their charges through payments' hook.
from .tasks_schedules import register_schedule_jobs  # noqa: E402

register_schedule_jobs()
