from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChannelsEmailConfig(AppConfig):
    name = "permanence.channels_email"
    label = "channels_email"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = _("Canal e-mail")

    def ready(self) -> None:
        # Django app loading: the outbound module needs the models, ready only now.
        from permanence.inbox.delivery import sender_register

        from .outbound import send_acknowledgement, send_reply

        sender_register(reply=send_reply, acknowledgement=send_acknowledgement)
