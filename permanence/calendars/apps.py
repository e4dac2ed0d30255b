from django.apps import AppConfig


class CalendarsConfig(AppConfig):
    """Business calendars (opening slots, holidays, closures) and the notices shown from them.

    Identity layer: its services need client accounts and roles, which the kernel must not
    import. The models came from core with their tables (db_table keeps the old names)."""

    name = "permanence.calendars"
    label = "calendars"
    default_auto_field = "django.db.models.BigAutoField"
