from datetime import timedelta

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InboxConfig(AppConfig):
    name = "permanence.inbox"
    label = "inbox"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = _("Boîte de réception")

    def ready(self) -> None:
        from permanence.calendars.services import CALENDAR_CHANGED_HOOKS
        from permanence.core.scheduler import every

        from .tasks import sla_check, sla_recompute

        every(timedelta(minutes=1), name="inbox.sla_check")(sla_check)
        def recompute(account_ids: list[int]) -> None:
            sla_recompute.enqueue(account_ids)

        CALENDAR_CHANGED_HOOKS.append(recompute)
