"""Refunds of credit notes: the money a credit note gives back, through the provider that
took it (a Stripe refund of the payment that paid the corrected invoice) or by bank transfer
(recorded by billing staff). One refund per credit note (a failed one may be asked again).

The provider is called with no transaction open (payments.services.payment_refund): the
Refund row is committed first, in « demandé »; asking again after a crash sends the same
idempotency key, so the client is never refunded twice."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from permanence.accounts.models import User
from permanence.audit.actions import Action
from permanence.audit.services import audit_record
from permanence.core import clock
from permanence.core.errors import DomainError, Forbidden
from permanence.payments.models import Payment, PaymentStatus, Provider
from permanence.payments.services import payment_refund

from .models_credits import Refund, RefundMethod, RefundStatus
from .models_invoices import DocumentKind, Invoice
from .permissions import can_manage_billing

STRIPE_STATUS = {"succeeded": RefundStatus.DONE, "pending": RefundStatus.PENDING,
                 "requires_action": RefundStatus.PENDING, "failed": RefundStatus.FAILED,
                 "canceled": RefundStatus.FAILED}


def provider_payment(invoice: Invoice) -> Payment | None:
    """The provider payment that paid `invoice`: its own charge, or its order's checkout."""
    paid_by = Q(invoice_number=invoice.number)
    if invoice.order_id:
        paid_by |= Q(order_id=invoice.order_id)
    return (Payment.objects.filter(paid_by, provider=Provider.STRIPE,
                                   status__in=(PaymentStatus.SUCCEEDED,
                                               PaymentStatus.REFUNDED))
            .exclude(provider_payment_id="").order_by("-succeeded_at", "-pk").first())


def refundable_cents(note: Invoice, payment: Payment | None) -> int:
    """What the credit note may give back: its total, within the money received for the
    invoice (what was paid, less the credit notes imputed on it) and, by the provider, within
    what its payment has not refunded yet."""
    invoice = note.credit_of
    if invoice is None:
        return 0
    imputed = sum(Refund.objects.filter(credit_note__credit_of=invoice,
                                        method=RefundMethod.IMPUTED)
                  .values_list("amount_cents", flat=True))
    cap = min(note.total_ttc_cents, invoice.paid_cents - imputed)
    if payment is not None:
        cap = min(cap, payment.amount_cents - payment.refunded_cents)
    return max(cap, 0)


def _check(actor: User, note: Invoice) -> None:
    if not can_manage_billing(actor):
        raise Forbidden(_("Seule la comptabilité rembourse un avoir."))
    if note.kind != DocumentKind.CREDIT_NOTE:
        raise DomainError("not_a_credit_note", _("On rembourse un avoir, pas une facture."),
                          status=409)


def _prepare(actor: User, note: Invoice, *, by_transfer: bool) -> tuple[Refund, bool]:
    """Transaction 1: the refund to ask (new, or the one asked before and not answered)."""
    with transaction.atomic():
        note = (Invoice.objects.select_for_update(of=("self",)).select_related("credit_of")
                .get(pk=note.pk))
        _check(actor, note)
        current = note.refunds.exclude(status=RefundStatus.FAILED).first()
        if current is not None:
            if current.status == RefundStatus.REQUESTED \
                    and current.method == RefundMethod.PROVIDER and not by_transfer:
                return current, True  # asked, answer unknown: ask again, same key
            raise DomainError("already_refunded", _(
                "Cet avoir est déjà réglé (remboursé ou imputé sur la facture)."), status=409)
        invoice = note.credit_of  # a credit note cites its invoice
        payment = None if by_transfer or invoice is None else provider_payment(invoice)
        if not by_transfer and payment is None:
            raise DomainError("no_provider_payment", _(
                "La facture n'a pas été payée par carte ou prélèvement : remboursez par "
                "virement."), status=409)
        amount = refundable_cents(note, payment)
        if amount <= 0:
            raise DomainError("nothing_to_refund", _(
                "Rien à rembourser : la facture n'a pas été payée (ou l'est déjà en retour)."),
                status=409)
        now = clock.now()
        refund = Refund.objects.create(
            credit_note=note, payment=payment, amount_cents=amount,
            method=RefundMethod.TRANSFER if by_transfer else RefundMethod.PROVIDER,
            status=RefundStatus.DONE if by_transfer else RefundStatus.REQUESTED, actor=actor,
            created_at=now, updated_at=now)
        audit_record(actor=actor, action=Action.CREATE, target=refund, account=note.account,
                     changes={"credit_note": note.number, "amount_cents": amount,
                              "by_transfer": by_transfer})
        return refund, not by_transfer


def credit_note_refund(*, actor: User, note: Invoice, by_transfer: bool = False) -> Refund:
    """Refund `note` through the provider (or record its refund by transfer)."""
    refund, call = _prepare(actor, note, by_transfer=by_transfer)
    if not call or refund.payment is None:
        return refund
    try:
        answer: dict[str, Any] = payment_refund(
            actor=actor, payment=refund.payment, amount_cents=refund.amount_cents,
            reference=f"av{refund.pk}", metadata={"credit_note": note.number})
    except DomainError as exc:
        _record(refund, status=RefundStatus.FAILED, failure=exc.message)
        raise
    _record(refund, status=STRIPE_STATUS.get(str(answer.get("status")), RefundStatus.PENDING),
            provider_id=str(answer.get("id") or ""),
            failure=str(answer.get("failure_reason") or ""))
    refund.refresh_from_db()
    return refund


@transaction.atomic
def _record(refund: Refund, *, status: str, provider_id: str = "", failure: str = "") -> None:
    locked = Refund.objects.select_for_update().get(pk=refund.pk)
    locked.status = status
    locked.provider_refund_id = provider_id or locked.provider_refund_id
    locked.failure = failure[:300]
    locked.updated_at = clock.now()
    locked.save(update_fields=["status", "provider_refund_id", "failure", "updated_at"])
