from django.apps import AppConfig


class ChannelsWebformConfig(AppConfig):
    name = "permanence.channels_webform"
    label = "channels_webform"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Canal formulaire de contact"
