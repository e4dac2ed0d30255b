"""What the shop registers once the apps are loaded (ShopConfig.ready())."""

from __future__ import annotations

from . import signals  # noqa: F401 — connects the cart merge at login
from .order_checks import register_jobs
from .quotes.jobs import register_quote_jobs
from .tasks import register_cart_jobs

register_cart_jobs()  # cart: purge of abandoned anonymous carts
register_quote_jobs()  # quotes: reminders and expiry
register_jobs()  # orders: daily check, overdue alerts
