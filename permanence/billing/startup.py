"""What billing registers once the apps are loaded (BillingConfig.ready())."""

from __future__ import annotations

from permanence.shop.hooks import register_order_activated

from .services import subscriptions_create_for_order

# An activated order gets its subscriptions through the shop's hook: the shop does not import
# billing (issue 8).
register_order_activated(subscriptions_create_for_order)
