from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChannelsEmailConfig(AppConfig):
    name = "permanence.channels_email"
    label = "channels_email"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = _("Canal e-mail")
