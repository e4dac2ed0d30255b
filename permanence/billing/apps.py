from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "permanence.billing"
    label = "billing"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Imported once the apps are loaded (each of these modules imports models):
        from permanence.shop.hooks import register_order_activated  # app loading

        from .services import subscriptions_create_for_order  # app loading

        # An activated order gets its subscriptions through the shop's hook: the shop does
        # not import billing (issue 8).
        register_order_activated(subscriptions_create_for_order)
