from django.apps import AppConfig


class ShopConfig(AppConfig):
    name = "permanence.shop"
    label = "shop"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Django app loading: connects signals, registers the periodic jobs.
        from . import startup  # noqa: F401
