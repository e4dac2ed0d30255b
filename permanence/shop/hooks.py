"""What the shop asks of the apps above it, which register here in their AppConfig.ready():
payments starts an order's payment, billing acts when an order is paid (its invoice) and
when it is activated (its subscriptions).

The shop imports neither payments nor billing: they import the shop (orders, their states),
so the dependency goes one way and there is no import cycle (issue 8)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from django.core.exceptions import ImproperlyConfigured

from .models import Order


class PaymentStarter(Protocol):
    """Starts paying `order` with `method` (PaymentMethod); returns the payment, whose
    `checkout_url`, if any, is the provider's hosted page to send the buyer to."""

    def __call__(self, *, order: Order, method: str, success_url: str,
                 cancel_url: str) -> Any: ...


class OrderActivatedHook(Protocol):
    """Runs inside order_transition's transaction when `order` becomes « activée »."""

    def __call__(self, *, order: Order, at: datetime) -> object: ...


class OrderPaidHook(Protocol):
    """Runs inside order_transition's transaction when `order` becomes « payée »."""

    def __call__(self, *, order: Order, at: datetime) -> object: ...


@dataclass
class ShopHooks:
    payment_starter: PaymentStarter | None = None
    order_activated: list[OrderActivatedHook] = field(default_factory=list)
    order_paid: list[OrderPaidHook] = field(default_factory=list)


HOOKS = ShopHooks()


def register_payment_starter(starter: PaymentStarter) -> None:
    HOOKS.payment_starter = starter


def register_order_activated(hook: OrderActivatedHook) -> None:
    if hook not in HOOKS.order_activated:
        HOOKS.order_activated.append(hook)


def register_order_paid(hook: OrderPaidHook) -> None:
    if hook not in HOOKS.order_paid:
        HOOKS.order_paid.append(hook)


def start_payment(*, order: Order, method: str, success_url: str, cancel_url: str) -> Any:
    if HOOKS.payment_starter is None:
        raise ImproperlyConfigured("No payment starter registered: is permanence.payments in "
                                   "INSTALLED_APPS?")
    return HOOKS.payment_starter(order=order, method=method, success_url=success_url,
                                 cancel_url=cancel_url)


def order_activated(*, order: Order, at: datetime) -> None:
    for hook in HOOKS.order_activated:
        hook(order=order, at=at)


def order_paid(*, order: Order, at: datetime) -> None:
    for hook in HOOKS.order_paid:
        hook(order=order, at=at)
