"""The periodic quote job: reminders before expiry, then expiry. Registered with the
scheduler at startup by the shop app's ready()."""

from __future__ import annotations

from datetime import timedelta

from django_tasks import task

from permanence.core.scheduler import every

from .services import quotes_housekeeping as run

HOUSEKEEPING_EVERY = timedelta(hours=1)


@task()
def quotes_housekeeping() -> str:
    """Reminders N days before validity ends (once per quote), then expiry."""
    result = run()
    return f"expired={result['expired']} reminded={result['reminded']}"


def register_quote_jobs() -> None:
    every(HOUSEKEEPING_EVERY, name="shop.quotes_housekeeping")(quotes_housekeeping)
