from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "permanence.payments"
    label = "payments"
    default_auto_field = "django.db.models.BigAutoField"
