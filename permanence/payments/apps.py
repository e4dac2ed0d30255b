from datetime import timedelta
from typing import Any

from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "permanence.payments"
    label = "payments"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Imported once the apps are loaded (each of these modules imports models):
        from permanence.core.scheduler import every  # app loading
        from permanence.shop.hooks import register_payment_starter  # app loading

        from . import services  # app loading
        from .tasks import reprocess_provider_events  # app loading

        every(timedelta(minutes=1), name="payments.reprocess_events")(reprocess_provider_events)

        def start_payment(**kwargs: Any) -> Any:
            # Looked up at each call: whoever replaces services.payment_start (a test) is obeyed.
            return services.payment_start(**kwargs)

        # The shop starts payments through its hook: it does not import payments (issue 8).
        register_payment_starter(start_payment)
