"""What the desk registers once the apps are loaded (DeskConfig.ready())."""

from __future__ import annotations

from permanence.shop.hooks import register_order_activated

from .setup import setup_open_for_order

# An activated order opens the account's set-up checklist (the shop does not import desk).
register_order_activated(setup_open_for_order)

# « Transmettre »: the forwards' e-mail task and escalation job are registered by importing
# their module; SMS delivery receipts of forwards come back through core.sms.
from permanence.core.sms import sms_status_listen  # noqa: E402

from . import tasks_forwarding  # noqa: E402,F401
from .forwarding import SMS_REF_PREFIX, forward_sms_status  # noqa: E402

sms_status_listen(SMS_REF_PREFIX, forward_sms_status)

# Call events: the sweep of events left unprocessed; agents' break reminders.
from datetime import timedelta  # noqa: E402

from permanence.core.scheduler import every  # noqa: E402

from .tasks import process_events, remind_breaks, send_digests  # noqa: E402

every(timedelta(minutes=1), name="desk.process_events")(process_events)
every(timedelta(minutes=1), name="desk.break_reminders")(remind_breaks)
# The clients' digests: each account's morning comes at its own time (its time zone).
every(timedelta(minutes=15), name="desk.digests")(send_digests)
