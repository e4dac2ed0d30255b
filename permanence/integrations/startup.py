"""What integrations registers once the apps are loaded (IntegrationsConfig.ready())."""

from __future__ import annotations

from datetime import timedelta

from permanence.core.scheduler import every

from .tasks import webhooks_sweep

# Safety net: re-enqueues deliveries whose retry was lost (worker crash, lost enqueue) and
# prunes the delivery log.
every(timedelta(minutes=5), name="integrations.webhooks_sweep")(webhooks_sweep)
