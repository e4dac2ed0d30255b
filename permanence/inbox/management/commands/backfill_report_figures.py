"""Fill the reports' columns of conversations answered or resolved before they were kept, so
that the indicators of past months are computed on every conversation, not only new ones.

    python manage.py backfill_report_figures --dry-run   # how many would be filled
    python manage.py backfill_report_figures             # fill them, 500 per batch

Each conversation is filled in its own short transaction (row locked): safe to run while the
platform works, and again (what is filled is skipped)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db.models import Q

from permanence.inbox.models import Conversation
from permanence.inbox.services import conversation_figures_backfill

MISSING = (Q(first_response_at__isnull=False, first_response_business_seconds__isnull=True)
           | Q(resolved_at__isnull=False, resolution_business_seconds__isnull=True))


class Command(BaseCommand):
    help = "Compute the report figures of conversations answered before they were kept."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--dry-run", action="store_true",
                            help="only count the conversations to fill")
        parser.add_argument("--batch", type=int, default=500)

    def handle(self, *args: Any, **options: Any) -> None:
        todo = Conversation.objects.filter(MISSING, merged_into__isnull=True)
        if options["dry_run"]:
            self.stdout.write(f"{todo.count()} conversation(s) to fill")
            return
        filled, last = 0, 0
        while True:
            ids = list(todo.filter(pk__gt=last).order_by("pk")
                       .values_list("pk", flat=True)[:options["batch"]])
            if not ids:
                break
            filled += sum(conversation_figures_backfill(conversation_id=pk) for pk in ids)
            last = ids[-1]
            self.stdout.write(f"  {filled} filled (up to #{last})")
        self.stdout.write(self.style.SUCCESS(f"{filled} conversation(s) filled"))
