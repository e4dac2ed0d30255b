from importlib import import_module

from django.apps import AppConfig


class LivechatConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "permanence.livechat"
    verbose_name = "Chat en ligne"

    def ready(self) -> None:
        # Once the apps are loaded: the chat's reply channel joins the inbox's (inbox.reach).
        # Its own module only, so no dependency is hidden from import-linter.
        import_module(f"{self.name}.startup")
