from importlib import import_module

from django.apps import AppConfig


class StatusConfig(AppConfig):
    """Continuity (issue 15): the incident log (« journal des interventions techniques »),
    the per-minute health samples of every channel and the public status page."""

    name = "permanence.status"
    label = "status"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Once the apps are loaded: the health sampler joins the scheduler.
        import_module(f"{self.name}.startup")
