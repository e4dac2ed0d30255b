"""The billing API (read): `/api/v1/invoices` and `/api/v1/credit-notes` (list, read, the
archived PDF with its Factur-X, the Factur-X XML alone), `/api/v1/subscriptions` (list,
read). Who sees what: billing.selectors (billing staff, supervisors, administrators: every
account; clients: their own accounts; télésecrétaires: nothing)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.http import FileResponse, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from permanence.accounts.selectors import accounts_visible_to
from permanence.core.access import AuthedHttpRequest
from permanence.core.errors import Forbidden, NotFound

from . import selectors
from .models import Subscription
from .models_invoices import DocumentKind, Invoice, InvoiceStatus
from .permissions import can_view_billing, can_view_own_invoices
from .views import pdf_response

router = Router(tags=["billing"])


class LineOut(Schema):
    position: int
    kind: str
    label: str
    quantity: str
    unit: str
    unit_price_cents: int
    vat_rate: str
    total_ht_cents: int
    period_start: date | None
    period_end: date | None


class InvoiceOut(Schema):
    number: str
    kind: str
    account: int
    status: str
    issued_on: date
    due_on: date
    period_start: date | None
    period_end: date | None
    total_ht_cents: int
    total_vat_cents: int
    total_ttc_cents: int
    paid_cents: int
    credit_of: str | None
    reason: str
    buyer: dict[str, Any]
    seller: dict[str, Any]
    vat_breakdown: list[dict[str, Any]]
    mentions: dict[str, str]
    content_hash: str
    lines: list[LineOut]


class InvoicePage(Schema):
    items: list[InvoiceOut]
    next_cursor: str | None = Field(description="`cursor` de la page suivante, ou null")


class InvoiceFilters(Schema):
    account: int | None = Field(None, ge=1, le=2**62)
    status: InvoiceStatus | None = None
    cursor: int | None = Field(None, ge=1, le=2**62, description="la page suivante")
    limit: int = Field(50, ge=1, le=200)


def invoice_out(i: Invoice) -> dict[str, Any]:
    return {"number": i.number, "kind": i.kind, "account": i.account_id, "status": i.status,
            "issued_on": i.issued_on, "due_on": i.due_on, "period_start": i.period_start,
            "period_end": i.period_end, "total_ht_cents": i.total_ht_cents,
            "total_vat_cents": i.total_vat_cents, "total_ttc_cents": i.total_ttc_cents,
            "paid_cents": i.paid_cents,
            "credit_of": i.credit_of.number if i.credit_of_id and i.credit_of else None,
            "reason": i.reason, "buyer": i.buyer, "seller": i.seller,
            "vat_breakdown": i.vat_breakdown, "mentions": i.mentions,
            "content_hash": i.content_hash,
            "lines": [{"position": ln.position, "kind": ln.kind, "label": ln.label,
                       "quantity": str(ln.quantity), "unit": ln.unit,
                       "unit_price_cents": ln.unit_price_cents, "vat_rate": str(ln.vat_rate),
                       "total_ht_cents": ln.total_ht_cents, "period_start": ln.period_start,
                       "period_end": ln.period_end} for ln in i.lines.all()]}


def _require(request: AuthedHttpRequest) -> None:
    if not (can_view_billing(request.user) or can_view_own_invoices(request.user)):
        raise Forbidden(_("La facturation n'est pas accessible à votre rôle."))


def _page(request: AuthedHttpRequest, kind: str, filters: InvoiceFilters) -> dict[str, Any]:
    _require(request)
    qs = (selectors.invoices_visible_to(request.user).filter(kind=kind)
          .select_related("credit_of").prefetch_related("lines"))
    if filters.account is not None:
        qs = qs.filter(account_id=filters.account)
    if filters.status is not None:
        qs = qs.filter(status=filters.status)
    if filters.cursor is not None:
        qs = qs.filter(pk__lt=filters.cursor)
    rows = list(qs.order_by("-pk")[:filters.limit])
    return {"items": [invoice_out(i) for i in rows],
            "next_cursor": str(rows[-1].pk) if len(rows) == filters.limit else None}


def _one(request: AuthedHttpRequest, number: str, kind: str) -> Invoice:
    _require(request)
    invoice = selectors.get_invoice_for_user(request.user, number)
    if invoice.kind != kind:
        raise NotFound(_("Facture introuvable."))
    return invoice


@router.get("/invoices", response=InvoicePage, summary="Factures (les plus récentes d'abord)")
def invoice_list(request: AuthedHttpRequest, filters: Query[InvoiceFilters]) -> dict[str, Any]:
    return _page(request, DocumentKind.INVOICE, filters)


@router.get("/invoices/{number}", response=InvoiceOut, summary="Une facture")
def invoice_detail(request: AuthedHttpRequest, number: str) -> dict[str, Any]:
    return invoice_out(_one(request, number, DocumentKind.INVOICE))


@router.get("/invoices/{number}/pdf", summary="Le PDF archivé (PDF/A-3 avec Factur-X)")
def invoice_pdf(request: AuthedHttpRequest, number: str) -> FileResponse:
    return pdf_response(_one(request, number, DocumentKind.INVOICE))


@router.get("/invoices/{number}/facturx", summary="Le XML Factur-X (EN 16931)")
def invoice_facturx(request: AuthedHttpRequest, number: str) -> HttpResponse:
    invoice = _one(request, number, DocumentKind.INVOICE)
    return HttpResponse(invoice.facturx_xml, content_type="application/xml; charset=utf-8")


@router.get("/credit-notes", response=InvoicePage, summary="Avoirs")
def credit_note_list(request: AuthedHttpRequest,
                     filters: Query[InvoiceFilters]) -> dict[str, Any]:
    return _page(request, DocumentKind.CREDIT_NOTE, filters)


@router.get("/credit-notes/{number}", response=InvoiceOut, summary="Un avoir")
def credit_note_detail(request: AuthedHttpRequest, number: str) -> dict[str, Any]:
    return invoice_out(_one(request, number, DocumentKind.CREDIT_NOTE))


@router.get("/credit-notes/{number}/pdf", summary="Le PDF archivé de l'avoir")
def credit_note_pdf(request: AuthedHttpRequest, number: str) -> FileResponse:
    return pdf_response(_one(request, number, DocumentKind.CREDIT_NOTE))


class SubscriptionOut(Schema):
    id: int
    account: int
    label: str
    status: str
    plan_kind: str
    billing_period: str
    monthly_price_cents: int
    included: dict[str, Any]
    unit_prices: dict[str, Any]
    options: list[dict[str, Any]]
    started_at: datetime
    commitment_ends_on: date | None
    notice_days: int
    current_period_start: date | None
    next_invoice_on: date | None
    ends_on: date | None


def _subscriptions(request: AuthedHttpRequest) -> Any:
    _require(request)
    visible = accounts_visible_to(request.user)
    return Subscription.objects.filter(account__in=list(visible.values_list("pk", flat=True)))


def subscription_out(s: Subscription) -> dict[str, Any]:
    return {"id": s.pk, "account": s.account_id, "label": s.label, "status": s.status,
            "plan_kind": s.plan_kind, "billing_period": s.billing_period,
            "monthly_price_cents": s.monthly_price_cents, "included": s.included or {},
            "unit_prices": s.unit_prices or {}, "options": s.options or [],
            "started_at": s.started_at, "commitment_ends_on": s.commitment_ends_on,
            "notice_days": s.notice_days, "current_period_start": s.current_period_start,
            "next_invoice_on": s.next_invoice_on, "ends_on": s.ends_on}


class SubscriptionFilters(Schema):
    account: int | None = Field(None, ge=1, le=2**62)
    limit: int = Field(100, ge=1, le=500)


@router.get("/subscriptions", response=list[SubscriptionOut], summary="Abonnements")
def subscription_list(request: AuthedHttpRequest,
                      filters: Query[SubscriptionFilters]) -> list[dict[str, Any]]:
    qs = _subscriptions(request)
    if filters.account is not None:
        qs = qs.filter(account_id=filters.account)
    return [subscription_out(s) for s in qs.order_by("-pk")[:filters.limit]]


@router.get("/subscriptions/{subscription_id}", response=SubscriptionOut,
            summary="Un abonnement")
def subscription_detail(request: AuthedHttpRequest, subscription_id: int) -> dict[str, Any]:
    found = (_subscriptions(request).filter(pk=subscription_id).first()
             if 0 < subscription_id < 2**63 else None)
    if found is None:
        raise NotFound(_("Abonnement introuvable."))
    return subscription_out(found)
