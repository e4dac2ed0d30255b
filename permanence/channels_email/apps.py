from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChannelsEmailConfig(AppConfig):
    name = "permanence.channels_email"
    label = "channels_email"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = _("Canal e-mail")

    def ready(self) -> None:
        # Django app loading: registers the inbox's e-mail senders.
        from . import startup  # noqa: F401
