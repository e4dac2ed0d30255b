"""Order facts for templates, computed by the order machine (never by template logic)."""

from __future__ import annotations

from django import template

from permanence.shop.models import Order
from permanence.shop.orders import NextStep, order_next_step

register = template.Library()


@register.filter
def next_step(order: Order) -> NextStep:
    return order_next_step(order)
