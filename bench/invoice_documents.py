"""Invoice documents: issuing (numbering + Factur-X XML), the PDF/A-3 with its XML embedded,
and the EN 16931 validation.

- Everything runs in one transaction rolled back at the end: issued invoices can never be
  deleted (migration 0006), so the bench leaves no invoice, number or operator change behind.
- BENCH_INVOICES (default 20) invoices of 6 lines (plan, option, call minutes with a
  fractional quantity, an hour-based service, a discount, a one-off) through
  `issuing.issue`: invoices/s (number, totals, CII XML, content hash, insert).
- `cii.build_cii` alone: ms per XML.
- `documents.render_pdf` (WeasyPrint PDF/A-3b + factur-x embedding) for each: PDFs/s.
  Target ≥ 2 PDFs/s on one core (a monthly run of 1,000 invoices in under 10 minutes of
  one worker).
- `validation.validate`: XSD + schematron in process (Saxon compiled once; p50/p95) and in
  a child process (the default, BENCH_INVOICE_ISOLATED runs, default 5). Targets: in process
  p95 < 100 ms; isolated p95 < 3 s.

`python -m bench invoice_documents` (or `make bench BENCH=invoice_documents`) runs it alone."""

from __future__ import annotations

import os
import time
from datetime import date
from decimal import Decimal
from typing import Any

from .stats import percentile, summary_ms

COUNT = int(os.environ.get("BENCH_INVOICES", "20"))
ISOLATED_RUNS = int(os.environ.get("BENCH_INVOICE_ISOLATED", "5"))
PDF_TARGET_PER_S = 2.0
INPROCESS_P95_MS = 100.0
ISOLATED_P95_MS = 3000.0


class _Rollback(Exception):
    pass


def _lines(issuing: Any, n: int) -> list[Any]:
    twenty = Decimal("20")
    start, end = date(2026, 5, 1), date(2026, 5, 31)
    return [
        issuing.Line("Forfait Permanence Pro — mai 2026", 14900, twenty,
                     period_start=start, period_end=end),
        issuing.Line("Option prise de rendez-vous", 2500, twenty,
                     period_start=start, period_end=end),
        issuing.Line("Minutes d'appel au-delà du forfait", 45, twenty,
                     quantity=Decimal(f"{30 + n}.5"), unit="MIN"),
        issuing.Line("Permanence exceptionnelle", 3200, twenty, quantity=Decimal("1.25"),
                     unit="HUR"),
        issuing.Line("Remise fidélité", -1000, twenty),
        issuing.Line("Mise en place des consignes", 9000, twenty),
    ]


def _measure() -> dict[str, Any]:
    from permanence.accounts.models import ClientAccount, OperatorIdentity
    from permanence.billing import cii, documents, issuing, validation

    OperatorIdentity.objects.update_or_create(pk=1, defaults={
        "legal_name": "Bench Secrétariat SAS", "siren": "552081317",
        "siret": "55208131700018", "vat_number": "FR03552081317",
        "address": "12 rue de la République\n69002 Lyon",
        "iban": "FR7630006000011234567890189"})
    account = ClientAccount.objects.create(
        name="Bench Factur-X", slug=f"bench-facturx-{time.time_ns()}", legal_name="Bench SARL",
        siret="73282932000074", vat_number="FR44732829320",
        billing_address="5 place Bellecour\n69002 Lyon", billing_email="bench@example.fr")

    started = time.perf_counter()
    invoices = [issuing.issue(issuing.Draft(account=account, lines=_lines(issuing, n),
                                            period_start=date(2026, 5, 1),
                                            period_end=date(2026, 5, 31)))
                for n in range(COUNT)]
    issue_s = time.perf_counter() - started

    build_ms = []
    for invoice in invoices:
        lines = list(invoice.lines.all())
        t = time.perf_counter()
        cii.build_cii(invoice, lines)
        build_ms.append((time.perf_counter() - t) * 1000)

    documents.render_pdf(invoices[0])  # warm-up: fonts, imports
    pdf_ms, sizes = [], []
    started = time.perf_counter()
    for invoice in invoices:
        t = time.perf_counter()
        sizes.append(len(documents.render_pdf(invoice)))
        pdf_ms.append((time.perf_counter() - t) * 1000)
    pdf_s = time.perf_counter() - started

    xmls = [invoice.facturx_xml.encode() for invoice in invoices]
    t = time.perf_counter()
    first = validation.validate(xmls[0], isolated=False)  # compiles the schematron
    compile_ms = (time.perf_counter() - t) * 1000
    inproc_ms, failures = [], list(first)
    for xml in xmls:
        t = time.perf_counter()
        failures += validation.validate(xml, isolated=False)
        inproc_ms.append((time.perf_counter() - t) * 1000)
    isolated_ms = []
    for xml in xmls[:ISOLATED_RUNS]:
        t = time.perf_counter()
        failures += validation.validate(xml)
        isolated_ms.append((time.perf_counter() - t) * 1000)
    return {"issue_s": issue_s, "build_ms": build_ms, "pdf_ms": pdf_ms, "pdf_s": pdf_s,
            "sizes": sizes, "compile_ms": compile_ms, "inproc_ms": inproc_ms,
            "isolated_ms": isolated_ms, "failures": failures}


def run() -> list[tuple[str, str, str, bool]]:
    from django.db import transaction

    result: dict[str, Any] = {}
    try:
        with transaction.atomic():
            result = _measure()
            raise _Rollback
    except _Rollback:
        pass

    print(f"\nInvoice documents ({COUNT} invoices of 6 lines, rolled back)")
    issue_rate = COUNT / result["issue_s"]
    pdf_rate = COUNT / result["pdf_s"]
    print(f"  issue (number + XML + insert): {issue_rate:.1f} invoices/s")
    print(f"  build_cii: {summary_ms(result['build_ms'])}")
    print(f"  render_pdf (PDF/A-3b + Factur-X): {pdf_rate:.2f} PDFs/s; "
          f"{summary_ms(result['pdf_ms'])}; "
          f"mean size {sum(result['sizes']) // len(result['sizes']) // 1024} KiB")
    print(f"  validate in process: first (schematron compile) {result['compile_ms']:.0f} ms; "
          f"then {summary_ms(result['inproc_ms'])}")
    print(f"  validate isolated (child process): {summary_ms(result['isolated_ms'])}")
    if result["failures"]:
        print(f"  VALIDATION FAILURES: {result['failures'][:3]}")
    inproc_p95 = percentile(result["inproc_ms"], 95)
    isolated_p95 = percentile(result["isolated_ms"], 95)
    return [
        ("invoice PDF/A-3 + Factur-X", f"{pdf_rate:.2f}/s", f">= {PDF_TARGET_PER_S:g}/s",
         pdf_rate >= PDF_TARGET_PER_S),
        ("invoice XML valid (XSD + EN 16931 schematron)",
         f"{len(result['failures'])} failures", "0", not result["failures"]),
        ("EN 16931 validation in process p95", f"{inproc_p95:.0f} ms",
         f"< {INPROCESS_P95_MS:g} ms", inproc_p95 < INPROCESS_P95_MS),
        ("EN 16931 validation isolated p95", f"{isolated_p95:.0f} ms",
         f"< {ISOLATED_P95_MS:g} ms", isolated_p95 < ISOLATED_P95_MS),
    ]

