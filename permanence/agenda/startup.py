"""What the agenda registers once the apps are loaded (AgendaConfig.ready())."""

from __future__ import annotations

from datetime import timedelta

from permanence.core.scheduler import every
from permanence.core.sms import sms_status_listen

from .notify import SMS_REF_PREFIX
from .reminders import reminder_sms_status
from .tasks import expire_holds, send_reminders, sync_calendars

sms_status_listen(SMS_REF_PREFIX, reminder_sms_status)
every(timedelta(minutes=1), name="agenda.reminders")(send_reminders)
every(timedelta(minutes=1), name="agenda.holds")(expire_holds)
every(timedelta(minutes=5), name="agenda.caldav_sync")(sync_calendars)
