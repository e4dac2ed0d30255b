from django.apps import AppConfig


class ChannelsEmailConfig(AppConfig):
    name = "permanence.channels_email"
    label = "channels_email"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Canal e-mail"
