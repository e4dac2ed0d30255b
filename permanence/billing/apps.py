from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "permanence.billing"
    label = "billing"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Django app loading: registers the order-activation hook.
        from . import startup  # noqa: F401
