from django.apps import AppConfig


class AgendaConfig(AppConfig):
    name = "permanence.agenda"
    label = "agenda"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Agenda"

    def ready(self) -> None:
        # Django app loading: registers the agenda's periodic jobs and SMS listeners.
        from . import startup  # noqa: F401
