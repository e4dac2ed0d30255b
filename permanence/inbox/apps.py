from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "permanence.inbox"
    label = "inbox"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Boîte de réception"
