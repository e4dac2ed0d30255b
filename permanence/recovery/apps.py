from django.apps import AppConfig


class RecoveryConfig(AppConfig):
    name = "permanence.recovery"
    label = "recovery"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Django app loading: registers the invoice-payment hook and the scheduler jobs.
        from . import startup  # noqa: F401
