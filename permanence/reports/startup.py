"""What the reports register once the apps are loaded (ReportsConfig.ready())."""

from __future__ import annotations

from datetime import timedelta

from permanence.core.scheduler import every

from .tasks import claim_scheduled_exports, send_monthly_reports

# Hourly: on the 1st from 06:00 (Paris), last month's report; later runs find nothing to do.
every(timedelta(hours=1), name="reports.monthly")(send_monthly_reports)
# Hourly too: on Mondays and the 1st from 06:00, the scheduled exports; a failed sending is
# claimed again an hour later.
every(timedelta(hours=1), name="reports.scheduled_exports")(claim_scheduled_exports)
