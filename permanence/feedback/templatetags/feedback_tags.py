"""`{% feedback_button %}`: the « Votre avis » button, on every page of the public site,
the checkout and the espace client (the source follows the page)."""

from __future__ import annotations

from typing import Any

from django import template

from ..forms import RATINGS
from ..models import Source

register = template.Library()
CHECKOUT_PREFIXES = ("/panier/", "/commande/")


@register.inclusion_tag("feedback/_button.html", takes_context=True)
def feedback_button(context: Any, source: str = "") -> dict[str, Any]:
    request = context.get("request")
    path = getattr(request, "path", "/")
    if not source:
        source = Source.CHECKOUT if path.startswith(CHECKOUT_PREFIXES) else Source.SITE
    return {"request": request, "account": context.get("account"), "feedback_source": source,
            "feedback_ratings": RATINGS, "csrf_token": context.get("csrf_token")}
