"""Orders in the REST API: list and read (staff per visibility, clients their accounts'
orders), and the state transitions staff may make (validate, activate, cancel).

Same gates as the UI: `orders_visible_to` / `get_order_for_user` (404 when not visible,
403 when visible but not allowed); an impossible transition is a 409 with a JSON body."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from permanence.core.access import AuthedHttpRequest
from permanence.core.errors import invalid

from . import selectors
from .models import Order, OrderStatus, PaymentMethod
from .orders import order_transition

router = Router(tags=["commandes"])


class OrderLineOut(Schema):
    label: str
    quantity: int
    unit_price_cents: int
    discount_percent: str = Field(..., description="Remise en %, décimal exact (\"10.00\")")
    vat_rate: str = Field(..., description="Taux de TVA en %, décimal exact (\"20.00\")")
    recurring_cents: int
    total_ht_cents: int

    @staticmethod
    def resolve_discount_percent(obj: Any) -> str:
        return str(obj.discount_percent)

    @staticmethod
    def resolve_vat_rate(obj: Any) -> str:
        return str(obj.vat_rate)


class OrderOut(Schema):
    id: int
    reference: str
    account: int
    status: OrderStatus
    customer_kind: str
    payment_method: PaymentMethod
    total_ht_cents: int
    total_vat_cents: int
    total_ttc_cents: int
    recurring_ht_cents: int
    information_complete: bool
    created_at: datetime
    paid_at: datetime | None
    validation_due_at: datetime | None
    validated_at: datetime | None
    activation_due_at: datetime | None
    activated_at: datetime | None
    closed_at: datetime | None
    due_at: datetime | None = Field(None, description="L'échéance en cours (validation ou "
                                                      "activation), s'il y en a une")
    lines: list[OrderLineOut]

    @staticmethod
    def resolve_account(obj: Order) -> int:
        return obj.account_id

    @staticmethod
    def resolve_due_at(obj: Order) -> datetime | None:
        return obj.due_at  # type: ignore[no-any-return]

    @staticmethod
    def resolve_lines(obj: Order) -> list[Any]:
        return list(obj.lines.all())


class StatusChangeOut(Schema):
    from_status: str
    to_status: str
    at: datetime
    actor: int | None
    note: str

    @staticmethod
    def resolve_actor(obj: Any) -> int | None:
        return obj.actor_id  # type: ignore[no-any-return]


class OrderDetailOut(OrderOut):
    billing_name: str
    billing_legal_name: str
    billing_siret: str
    billing_vat_number: str
    billing_address: str
    billing_email: str
    billing_phone: str
    terms_version: str | None
    terms_accepted_at: datetime | None
    withdrawal_ends_at: datetime | None
    start_before_withdrawal_end: bool
    checked_at: datetime | None
    history: list[StatusChangeOut]

    @staticmethod
    def resolve_terms_version(obj: Order) -> str | None:
        return obj.terms.version if obj.terms_id else None  # type: ignore[union-attr]

    @staticmethod
    def resolve_history(obj: Order) -> list[Any]:
        return list(obj.history.all().order_by("at", "pk"))


class OrderPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[OrderOut]


class OrderFilters(Schema):
    status: OrderStatus | None = None
    account: int | None = None
    payment_method: PaymentMethod | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0)


class TransitionIn(Schema):
    to: Literal["validee", "activee", "annulee"]
    note: str = Field("", max_length=300)
    override_reason: str = Field(
        "", max_length=300,
        description="Validation d'une commande dont les contrôles ne sont pas faits "
                    "(non vérifiée, informations incomplètes) : le motif, exigé, gardé dans "
                    "l'historique ; superviseurs et administrateurs seulement")


@router.get("/orders", response=OrderPage, summary="Commandes visibles")
def order_list(request: AuthedHttpRequest, filters: Query[OrderFilters]) -> dict[str, Any]:
    qs = selectors.api_order_list(
        request.user, status=filters.status or "", account=filters.account,
        payment_method=filters.payment_method or "", created_after=filters.created_after,
        created_before=filters.created_before)
    count = qs.count()
    page = list(qs.prefetch_related("lines")[filters.offset: filters.offset + filters.limit])
    return {"count": count, "limit": filters.limit, "offset": filters.offset, "items": page}


def _detail(order: Order) -> Order:
    return (Order.objects.select_related("terms")
            .prefetch_related("lines", "history").get(pk=order.pk))


@router.get("/orders/{order_id}", response=OrderDetailOut, summary="Une commande")
def order_detail(request: AuthedHttpRequest, order_id: int) -> Order:
    return _detail(selectors.get_order_for_user(request.user, order_id))


@router.post("/orders/{order_id}/transition", response=OrderDetailOut,
             summary="Valider, activer ou annuler une commande")
def order_change_status(request: AuthedHttpRequest, order_id: int,
                        payload: TransitionIn) -> Order:
    order = selectors.get_order_for_user(request.user, order_id, action="process")
    note = payload.note.strip()
    if payload.to == OrderStatus.CANCELLED and not note:
        raise invalid(note=_("Indiquez le motif de l'annulation."))
    order = order_transition(order=order, to=payload.to, actor=request.user, note=note,
                             override_reason=payload.override_reason
                             if payload.to == OrderStatus.VALIDATED else "")
    selectors.board_counts_forget(request.user)
    return _detail(order)
