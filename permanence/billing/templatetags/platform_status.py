"""The e-invoicing platform's lifecycle status of an invoice, as shown (billing.platform
holds the codes and their labels)."""

from __future__ import annotations

from django import template

from permanence.billing.platform import PlatformStatus

register = template.Library()


@register.filter
def platform_status_label(code: str) -> str:
    return PlatformStatus.label(str(code or ""))


@register.filter
def platform_status_problem(code: str) -> bool:
    return str(code or "") in PlatformStatus.PROBLEMS
