"""Reads for quotes (devis). `quotes_visible_to` is the gate in front of every quote query."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from permanence.accounts.models import Role, User
from permanence.accounts.permissions import Actor
from permanence.catalog.models import Offer, TermsVersion
from permanence.core import clock
from permanence.core.errors import Forbidden, NotFound
from permanence.shop.models import Quote, QuoteStatus, QuoteStatusChange
from permanence.shop.permissions import can_manage_quotes

# Statuses in which staff still have to act on a quote (answer the request).
OPEN_REQUEST_STATUSES = (QuoteStatus.REQUESTED, QuoteStatus.DRAFT)
EDITABLE_STATUSES = (QuoteStatus.REQUESTED, QuoteStatus.DRAFT)


def today() -> date:
    """The operator's local date (quotes are valid until a calendar day, Europe/Paris)."""
    return timezone.localdate(clock.now())


def quotes_visible_to(user: Actor) -> QuerySet[Quote]:
    qs = Quote.objects.all()
    if can_manage_quotes(user):
        return qs
    if isinstance(user, User) and user.is_active and user.role == Role.CLIENT:  # not anonymous
        return qs.filter(account__memberships__user=user)
    return qs.none()


def get_quote_for_staff(user: User, pk: Any) -> Quote:
    """The quote for the back office: 403 for anyone who may not manage quotes, 404 if absent."""
    if not can_manage_quotes(user):
        raise Forbidden(_("Vous n'avez pas accès aux devis."))
    try:
        return Quote.objects.select_related("account", "created_by", "requested_by").get(pk=pk)
    except (Quote.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("Devis introuvable.")) from None


def get_quote_for_user(user: User, pk: Any) -> Quote:
    try:
        return quotes_visible_to(user).select_related("account").get(pk=pk)
    except (Quote.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("Devis introuvable.")) from None


def get_quote_by_token(token: str) -> Quote:
    """The client's link: the token is the secret (43 URL-safe characters)."""
    if not token or len(token) < 20:
        raise NotFound(_("Devis introuvable."))
    try:
        return Quote.objects.select_related("account").get(token=token)
    except Quote.DoesNotExist:
        raise NotFound(_("Devis introuvable.")) from None


def quote_list(user: User, *, status: str = "", overdue: bool = False, q: str = "",
               account: int | None = None) -> QuerySet[Quote]:
    qs = quotes_visible_to(user).select_related("account")
    if status:
        qs = qs.filter(status=status)
    if overdue:
        qs = qs.filter(status__in=OPEN_REQUEST_STATUSES, response_due_at__lt=clock.now())
    if account:
        qs = qs.filter(account_id=account)
    q = q.strip()
    if q:
        qs = qs.filter(Q(reference__icontains=q) | Q(requester_name__icontains=q)
                       | Q(requester_email__icontains=q) | Q(company__icontains=q))
    return qs.order_by("-created_at", "-pk")


def quote_counters(user: User) -> dict[str, int]:
    """Counts per status, plus the requests whose answer is overdue: one query."""
    now = clock.now()
    aggregates: dict[str, Any] = {
        str(value): Count("pk", filter=Q(status=value)) for value in QuoteStatus.values}
    aggregates["overdue"] = Count("pk", filter=Q(status__in=OPEN_REQUEST_STATUSES,
                                                 response_due_at__lt=now))
    aggregates["total"] = Count("pk")
    return {k: int(v or 0) for k, v in
            quotes_visible_to(user).aggregate(**aggregates).items()}


def quote_lines(quote: Quote) -> list[Any]:
    return list(quote.lines.select_related("offer").order_by("position", "pk"))


def quote_history(quote: Quote) -> QuerySet[QuoteStatusChange]:
    return quote.history.select_related("actor").order_by("at", "pk")


def current_terms() -> TermsVersion | None:
    """The CGV in force: the latest version published up to now."""
    return (TermsVersion.objects.filter(published_at__isnull=False,
                                        published_at__lte=clock.now())
            .order_by("-published_at", "-pk").first())


def quotable_offers() -> QuerySet[Offer]:
    return Offer.objects.order_by("position", "name")


def is_expired(quote: Quote, on: date | None = None) -> bool:
    return quote.valid_until is not None and quote.valid_until < (on or today())
