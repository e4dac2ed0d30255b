from datetime import timedelta

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationsConfig(AppConfig):
    name = "permanence.integrations"
    label = "integrations"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = _("Intégrations")

    def ready(self) -> None:
        from permanence.core.scheduler import every

        from .tasks import webhooks_sweep

        # Safety net: re-enqueues deliveries whose retry was lost (worker crash, lost
        # enqueue) and prunes the delivery log.
        every(timedelta(minutes=5), name="integrations.webhooks_sweep")(webhooks_sweep)
