from importlib import import_module

from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    """Privacy, security and continuity (issue 15): the registry of personal data, data
    subjects' requests and retention, backups and their restore drill."""

    name = "permanence.privacy"
    label = "privacy"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Once the apps are loaded: the stale-backup alert joins the scheduler.
        import_module(f"{self.name}.startup")
