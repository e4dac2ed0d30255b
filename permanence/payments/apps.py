from datetime import timedelta

from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "permanence.payments"
    label = "payments"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from permanence.core.scheduler import every

        from .tasks import reprocess_provider_events

        every(timedelta(minutes=1), name="payments.reprocess_events")(reprocess_provider_events)
