from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChannelsSmsConfig(AppConfig):
    name = "permanence.channels_sms"
    label = "channels_sms"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = _("Canal SMS")

    def ready(self) -> None:
        # Django app loading: registers the SMS backend, the reply channel and the sweeps.
        from . import startup  # noqa: F401
