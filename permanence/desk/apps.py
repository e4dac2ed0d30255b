from django.apps import AppConfig


class DeskConfig(AppConfig):
    name = "permanence.desk"
    label = "desk"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Poste des télésecrétaires"

    def ready(self) -> None:
        # Django app loading: registers the desk's periodic jobs, tasks and hooks.
        from . import startup  # noqa: F401
