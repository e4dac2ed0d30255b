"""Catalog display helpers: {% load catalog_tags %}{{ 100|units:"appel" }} → "100 appels"."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from permanence.catalog.service_promise import deadline_clock_text, format_hours

register = template.Library()


@register.filter
def units(count: Any, unit: str) -> str:
    n = int(count or 0)
    if unit == "appel":
        return ngettext("%(n)s appel", "%(n)s appels", n) % {"n": n}
    if unit == "minute":
        return ngettext("%(n)s minute", "%(n)s minutes", n) % {"n": n}
    if unit == "message":
        return ngettext("%(n)s message", "%(n)s messages", n) % {"n": n}
    if unit == "rdv":
        return ngettext("%(n)s rendez-vous", "%(n)s rendez-vous", n) % {"n": n}
    if unit == "heure":
        return ngettext("%(n)s heure", "%(n)s heures", n) % {"n": n}
    return str(n)


@register.filter
def per_unit(unit: str) -> str:
    """"appel" → "par appel"."""
    labels = {"appel": _("par appel"), "minute": _("par minute"), "message": _("par message"),
              "rdv": _("par rendez-vous"), "heure": _("de l'heure")}
    return str(labels.get(unit, ""))


@register.filter
def months(count: Any) -> str:
    n = int(count or 0)
    if not n:
        return _("sans engagement")
    return ngettext("%(n)s mois", "%(n)s mois", n) % {"n": n}


@register.filter
def days(count: Any) -> str:
    n = int(count or 0)
    return ngettext("%(n)s jour", "%(n)s jours", n) % {"n": n}


@register.filter
def business_hours(count: Any) -> str:
    n = int(count or 0)
    return ngettext("%(n)s heure ouvrée", "%(n)s heures ouvrées", n) % {"n": n}


@register.inclusion_tag("catalog/_offer_price.html")
def offer_price(offer: Any) -> dict[str, Any]:
    return {"offer": offer}


@register.filter
def hours(value: Any) -> str:
    """Decimal("24.00") → "24"; Decimal("1.50") → "1,5"."""

    return format_hours(Decimal(str(value)))


@register.simple_tag
def deadline_clock() -> str:
    """{% deadline_clock %}: how "heures ouvrées" count (the operator's one clock setting),
    in plain words — on the service-client page, the CGV and the order pages."""
    return deadline_clock_text()
