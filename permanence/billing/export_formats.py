"""The journals as files: CSV for French Excel (UTF-8 with a BOM, `;` between fields, a comma
before the cents, dates dd/mm/yyyy) and XLSX (openpyxl's write-only workbook: rows go to
disk as they come, memory stays flat).

A table is its headers and a function from a journal row to cells (dates as `date`,
amounts as `Decimal` euros): the same cells feed both formats."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _

from permanence.core.exports import FORMULA_START, Table, csv_chunks, csv_text, xlsx_file

from .journals import PaymentRow, SalesRow, aux_account


def euros(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(Decimal("0.01"))


def _sales_cells(r: SalesRow) -> list[Any]:
    return [r.day, r.number, r.kind_label, r.status_label, r.client, aux_account(r.account_id),
            r.client_siren, r.credit_of, r.vat_rate, euros(r.ht_cents), euros(r.vat_cents),
            euros(r.ttc_cents)]


def _payment_cells(r: PaymentRow) -> list[Any]:
    return [r.day, r.kind_label, r.provider_label, r.method_label, r.reference, r.order,
            r.invoice, r.client, aux_account(r.account_id) if r.account_id else "",
            euros(r.amount_cents)]


SALES = Table("journal-des-ventes", (
    _("Date"), _("Numéro"), _("Type"), _("Statut"), _("Client"), _("Compte client"),
    _("SIREN client"), _("Facture d'origine"), _("Taux de TVA"), _("Montant HT"),
    _("TVA"), _("Montant TTC")), _sales_cells)
PAYMENTS = Table("journal-des-paiements", (
    _("Date"), _("Mouvement"), _("Prestataire"), _("Moyen"), _("Référence"), _("Commande"),
    _("Facture"), _("Client"), _("Compte client"), _("Montant")), _payment_cells)

__all__ = ["FORMULA_START", "PAYMENTS", "SALES", "Table", "csv_chunks", "csv_text", "euros",
           "xlsx_file"]
