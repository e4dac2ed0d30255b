"""What privacy registers once the apps are loaded (PrivacyConfig.ready())."""

from __future__ import annotations

from datetime import timedelta

from permanence.core.scheduler import every
from permanence.desk.campaigns import campaign_objections_register
from permanence.inbox.surveys.services import survey_veto_register

from . import tasks_requests  # noqa: F401 (registers privacy.build_export)
from .requests import objected, objected_numbers
from .tasks import alert_stale_backup, apply_retention, expire_exports

# Hourly: a stale or missing backup e-mails the administrators, at most once a day.
every(timedelta(hours=1), name="privacy.stale_backup_alert")(alert_stale_backup)
# Daily: the retention schedules applied (dry-run report, then the real run, both recorded).
every(timedelta(days=1), name="privacy.retention")(apply_retention)
# Daily: the data exports' ZIPs deleted once past PRIVACY_EXPORT_KEEP_DAYS.
every(timedelta(days=1), name="privacy.expire_exports")(expire_exports)

# A contact who objected (an executed objection request) gets no satisfaction survey.
survey_veto_register(objected)
# Nor is his number imported into the account's calling campaigns.
campaign_objections_register(objected_numbers)
