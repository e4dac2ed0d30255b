from django.apps import AppConfig


class CalendarsConfig(AppConfig):
    """Business calendars (opening slots, holidays, closures) and the notices shown from them.

    Identity layer: its services need client accounts and roles, which the kernel must not
    import. The tables are still core's (core.BusinessCalendar, Closure, Announcement): moving
    the models here needs state-only migrations and a rewrite of audit target labels."""

    name = "permanence.calendars"
    label = "calendars"
    default_auto_field = "django.db.models.BigAutoField"
