"""What the status app registers once the apps are loaded (StatusConfig.ready())."""

from __future__ import annotations

from datetime import timedelta

from permanence.core.scheduler import every

from .tasks import record_health_samples

# Every minute: one health sample per channel (the availability's minutes observed / up).
every(timedelta(minutes=1), name="status.health_samples")(record_health_samples)
