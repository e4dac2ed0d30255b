"""Quotes (devis) in the REST API: list, read, create a draft.

Same gates as the UI: staff who may manage quotes (administrators, supervisors, billing) see
and create every quote; clients read their accounts' quotes; agents have no access (403).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja import Status as Respond

from permanence.accounts.models import Role, User
from permanence.accounts.selectors import get_account_for_user
from permanence.audit.services import audit_view
from permanence.catalog.models import Offer
from permanence.core.access import AuthedHttpRequest
from permanence.core.errors import DomainError, Forbidden, invalid_fields
from permanence.shop.models import CustomerKind, Quote, QuoteLine, QuoteStatus
from permanence.shop.permissions import can_manage_quotes

from . import selectors, services

router = Router(tags=["devis"])


# --- Schemas -------------------------------------------------------------------------------

class QuoteLineOut(Schema):
    id: int
    offer: int | None
    label: str
    quantity: int
    unit_price_cents: int
    discount_percent: Decimal
    vat_rate: Decimal
    recurring: bool
    total_ht_cents: int

    @staticmethod
    def resolve_offer(obj: QuoteLine) -> int | None:
        return obj.offer_id


class QuoteOut(Schema):
    id: int
    reference: str
    account: int | None
    status: QuoteStatus
    requester_name: str
    requester_email: str
    requester_phone: str
    company: str
    customer_kind: CustomerKind
    sector: str
    needs: str
    expected_volume: str
    hours: str
    message: str
    valid_until: date | None
    total_ht_cents: int
    total_vat_cents: int
    total_ttc_cents: int
    response_due_at: datetime | None
    sent_at: datetime | None
    accepted_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_account(obj: Quote) -> int | None:
        return obj.account_id


class QuoteDetailOut(QuoteOut):
    lines: list[QuoteLineOut]

    @staticmethod
    def resolve_lines(obj: Quote) -> list[QuoteLine]:
        return getattr(obj, "api_lines", [])


class QuotePage(Schema):
    count: int
    limit: int
    offset: int
    items: list[QuoteOut]


class QuoteFilters(Schema):
    status: QuoteStatus | None = None
    account: int | None = None
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0)


class QuoteLineIn(Schema):
    offer: int | None = Field(None, description="Offre du catalogue (reprend son libellé, "
                                                "son prix, sa TVA si non fournis)")
    label: str = Field("", max_length=200)
    quantity: int = Field(1, ge=1, le=1_000_000)
    unit_price_cents: int | None = Field(None, ge=0, le=100_000_000,
                                         description="Prix unitaire HT en centimes")
    discount_percent: Decimal = Field(Decimal(0), ge=0, le=100, decimal_places=2)
    vat_rate: Decimal | None = Field(None, ge=0, le=100, decimal_places=2)
    recurring: bool | None = Field(None, description="Ligne mensuelle")


class QuoteIn(Schema):
    account: int | None = None
    requester_name: str = Field("", max_length=150)
    requester_email: str = Field("", max_length=254)
    requester_phone: str = Field("", max_length=30)
    company: str = Field("", max_length=200)
    customer_kind: CustomerKind = CustomerKind.PRO
    sector: str = Field("", max_length=16)
    needs: str = Field("", max_length=5000)
    expected_volume: str = Field("", max_length=120)
    hours: str = Field("", max_length=200)
    message: str = Field("", max_length=5000)
    valid_until: date | None = None
    lines: list[QuoteLineIn] = Field(default_factory=list, max_length=services.MAX_LINES)


# --- Helpers -------------------------------------------------------------------------------

def _require_access(user: User) -> None:
    if not (can_manage_quotes(user) or user.role == Role.CLIENT):
        raise Forbidden(_("Vous n'avez pas accès aux devis."))


def _detail(pk: int) -> Quote:
    quote = Quote.objects.get(pk=pk)
    quote.api_lines = list(quote.lines.order_by("position", "pk"))  # type: ignore[attr-defined]
    return quote


def _line_inputs(lines: list[QuoteLineIn]) -> list[services.QuoteLineInput]:
    offer_ids = {line.offer for line in lines if line.offer is not None}
    offers = Offer.objects.in_bulk(offer_ids)
    errors: dict[str, list[str]] = {}
    out: list[services.QuoteLineInput] = []
    for n, line in enumerate(lines):
        offer = offers.get(line.offer) if line.offer is not None else None
        if line.offer is not None and offer is None:
            errors[f"lines.{n}.offer"] = [_("Offre introuvable.")]
            continue
        if offer is not None:
            base = services.line_input_from_offer(offer, line.quantity, line.discount_percent)
            out.append(services.QuoteLineInput(
                label=line.label.strip() or base.label, quantity=line.quantity,
                unit_price_cents=base.unit_price_cents if line.unit_price_cents is None
                else line.unit_price_cents,
                vat_rate=base.vat_rate if line.vat_rate is None else line.vat_rate,
                discount_percent=line.discount_percent,
                recurring=base.recurring if line.recurring is None else line.recurring,
                offer=offer))
            continue
        if line.unit_price_cents is None:
            errors[f"lines.{n}.unit_price_cents"] = [_("Champ obligatoire pour une ligne "
                                                       "libre.")]
            continue
        out.append(services.QuoteLineInput(
            label=line.label, quantity=line.quantity, unit_price_cents=line.unit_price_cents,
            vat_rate=Decimal("20.00") if line.vat_rate is None else line.vat_rate,
            discount_percent=line.discount_percent, recurring=bool(line.recurring)))
    if errors:
        raise invalid_fields(errors)
    return out


# --- Endpoints -----------------------------------------------------------------------------

@router.get("/quotes", response=QuotePage, summary="Devis visibles")
def quote_list(request: AuthedHttpRequest, filters: Query[QuoteFilters]) -> dict[str, Any]:
    _require_access(request.user)
    qs = selectors.quotes_visible_to(request.user)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.account is not None:
        qs = qs.filter(account_id=filters.account)
    qs = qs.order_by("-created_at", "-pk")
    count = qs.count()
    page = list(qs[filters.offset: filters.offset + filters.limit])
    return {"count": count, "limit": filters.limit, "offset": filters.offset, "items": page}


@router.get("/quotes/{quote_id}", response=QuoteDetailOut, summary="Un devis et ses lignes")
def quote_detail(request: AuthedHttpRequest, quote_id: int) -> Quote:
    _require_access(request.user)
    quote = selectors.get_quote_for_user(request.user, quote_id)
    audit_view(actor=request.user, target=quote, account=quote.account)
    return _detail(quote.pk)


@router.post("/quotes", response={201: QuoteDetailOut}, summary="Créer un devis (brouillon)")
def quote_create(request: AuthedHttpRequest, payload: QuoteIn) -> Respond[Any]:
    user = request.user
    if not can_manage_quotes(user):
        raise Forbidden(_("Vous ne pouvez pas créer de devis."))
    account = None
    if payload.account is not None:
        try:
            account = get_account_for_user(user, payload.account)
        except DomainError:
            raise DomainError("not_found", _("Compte client introuvable."), status=404,
                              fields={"account": [_("Compte client introuvable.")]}) from None
    email = payload.requester_email.strip()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise invalid_fields({"requester_email": [_("Adresse e-mail invalide.")]}) from None
    data = payload.model_dump(exclude={"account", "lines"})
    data["customer_kind"] = str(payload.customer_kind)
    if data["valid_until"] is None:
        data.pop("valid_until")
    quote = services.quote_create(actor=user, data=data, lines=_line_inputs(payload.lines),
                                  account=account)
    return Respond(201, _detail(quote.pk))
