from django.apps import AppConfig


class EinvoicingConfig(AppConfig):
    name = "permanence.einvoicing"
    label = "einvoicing"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Facturation électronique"

    def ready(self) -> None:
        # Django app loading: registers the transmission and polling jobs and tasks.
        from . import startup  # noqa: F401
