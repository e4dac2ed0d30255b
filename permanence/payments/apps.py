
from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "permanence.payments"
    label = "payments"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Django app loading: registers the provider-event sweep and the shop's payment starter.
        from . import startup  # noqa: F401
