from importlib import import_module

from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "permanence.reports"
    label = "reports"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Once the apps are loaded: the monthly reports' job joins the scheduler.
        import_module(f"{self.name}.startup")
