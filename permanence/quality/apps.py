from django.apps import AppConfig


class QualityConfig(AppConfig):
    name = "permanence.quality"
    label = "quality"
    default_auto_field = "django.db.models.BigAutoField"
