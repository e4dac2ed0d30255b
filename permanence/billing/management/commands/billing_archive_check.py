"""`manage.py billing_archive_check [--from YYYY-MM-DD] [--to YYYY-MM-DD]`: recompute the
SHA-256 of every archived invoice and credit note of the period (content and PDF) and report
any mismatch; exit status 1 when one is found (billing/archive.py says why it matters)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from permanence.billing.archive import OK, PENDING, PROBLEMS, archive_check
from permanence.billing.journals import Period


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"not a date (YYYY-MM-DD): {text!r}") from None


class Command(BaseCommand):
    help = "Check that the archived invoices and credit notes are unchanged (SHA-256)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--from", dest="start", default="2000-01-01")
        parser.add_argument("--to", dest="end", default="2999-12-31")

    def handle(self, *args: Any, **options: Any) -> None:
        period = Period(_day(options["start"]), _day(options["end"]))
        if period.start > period.end:
            raise CommandError("--from is after --to")
        counts = dict.fromkeys((OK, PENDING, *PROBLEMS), 0)
        for finding in archive_check(period):
            counts[finding.outcome] += 1
            if finding.outcome != OK:
                self.stdout.write(f"{finding.number}\t{finding.outcome}\t{finding.detail}")
        self.stdout.write(" ".join(f"{k}={v}" for k, v in counts.items()))
        bad = sum(counts[k] for k in PROBLEMS)
        if bad:
            raise CommandError(f"{bad} archived document(s) differ from what was issued")
