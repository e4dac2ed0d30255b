from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChannelsWebformConfig(AppConfig):
    name = "permanence.channels_webform"
    label = "channels_webform"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = _("Canal formulaire de contact")
