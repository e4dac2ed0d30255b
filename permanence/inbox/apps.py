
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InboxConfig(AppConfig):
    name = "permanence.inbox"
    label = "inbox"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = _("Boîte de réception")

    def ready(self) -> None:
        # Django app loading: registers the periodic SLA check and the calendar hook.
        from . import startup  # noqa: F401
