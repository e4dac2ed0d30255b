"""The dunning calendar, from settings (days after the incident opened, local dates):
retries of the saved payment method, e-mail reminders, then the suspension."""

from __future__ import annotations

from django.conf import settings

DEFAULT_RETRY_DAYS = (2, 9, 19)  # the day before each reminder: a reminder only if still unpaid
DEFAULT_REMINDER_DAYS = (3, 10, 20)
DEFAULT_SUSPEND_DAYS = 30


def retry_days() -> tuple[int, ...]:
    return tuple(sorted(getattr(settings, "BILLING_DUNNING_RETRY_DAYS", DEFAULT_RETRY_DAYS)))


def reminder_days() -> tuple[int, ...]:
    return tuple(sorted(getattr(settings, "BILLING_DUNNING_REMINDER_DAYS",
                                DEFAULT_REMINDER_DAYS)))


def suspend_days() -> int:
    return int(getattr(settings, "BILLING_DUNNING_SUSPEND_DAYS", DEFAULT_SUSPEND_DAYS))
