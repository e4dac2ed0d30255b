from datetime import timedelta

from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "permanence.inbox"
    label = "inbox"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Boîte de réception"

    def ready(self) -> None:
        from permanence.core.scheduler import every

        from .tasks import sla_check

        every(timedelta(minutes=1), name="inbox.sla_check")(sla_check)
