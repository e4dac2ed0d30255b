from django.apps import AppConfig


class ShopConfig(AppConfig):
    name = "permanence.shop"
    label = "shop"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import signals  # noqa: F401 — connects the cart merge at login
        from .tasks import register_cart_jobs  # cart: purge of abandoned anonymous carts

        register_cart_jobs()
        from .quotes.jobs import register_quote_jobs  # quotes: reminders and expiry

        register_quote_jobs()
        from .checks import register_jobs  # orders: daily check, overdue alerts

        register_jobs()
