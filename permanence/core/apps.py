from django.apps import AppConfig

from . import checks  # noqa: F401  (registers the kernel's system checks)


class CoreConfig(AppConfig):
    name = "permanence.core"
    label = "core"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Django app loading: the scheduler's own jobs import task models.
        from .scheduler import register_builtin_jobs

        register_builtin_jobs()
