"""What privacy registers once the apps are loaded (PrivacyConfig.ready())."""

from __future__ import annotations

from datetime import timedelta

from permanence.core.scheduler import every

from .tasks import alert_stale_backup, apply_retention

# Hourly: a stale or missing backup e-mails the administrators, at most once a day.
every(timedelta(hours=1), name="privacy.stale_backup_alert")(alert_stale_backup)
# Daily: the retention schedules applied (dry-run report, then the real run, both recorded).
every(timedelta(days=1), name="privacy.retention")(apply_retention)
