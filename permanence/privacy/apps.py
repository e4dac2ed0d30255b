from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    """Privacy, security and continuity (issue 15): the registry of personal data, data
    subjects' requests and retention, backups and their restore drill."""

    name = "permanence.privacy"
    label = "privacy"
    default_auto_field = "django.db.models.BigAutoField"
