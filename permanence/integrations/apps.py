
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationsConfig(AppConfig):
    name = "permanence.integrations"
    label = "integrations"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = _("Intégrations")

    def ready(self) -> None:
        # Django app loading: registers the webhook sweep.
        from . import startup  # noqa: F401
