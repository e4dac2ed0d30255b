"""Gapless yearly references for orders (CM-2026-000001) and quotes (DV-2026-000001)."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from .models import ReferenceCounter


def reference_next(prefix: str, at: datetime) -> str:
    """Row-locked counter: numbers are consecutive (orders are few; the lock is short)."""
    year = timezone.localtime(at).year
    with transaction.atomic():
        ReferenceCounter.objects.get_or_create(prefix=prefix, year=year)
        counter = ReferenceCounter.objects.select_for_update().get(prefix=prefix, year=year)
        counter.last += 1
        counter.save(update_fields=["last"])
    return f"{prefix}-{year}-{counter.last:06d}"


def reference_release(reference: str) -> None:
    """Give back a reference just handed out, when what it numbered was undone (a checkout
    whose payment could not start): the counter steps back if it is still the last one, so
    the numbers stay consecutive. (If a later one was handed out meanwhile, a gap remains.)"""
    prefix, year, number = reference.rsplit("-", 2)
    with transaction.atomic():
        counter = (ReferenceCounter.objects.select_for_update()
                   .filter(prefix=prefix, year=int(year)).first())
        if counter is not None and counter.last == int(number):
            counter.last -= 1
            counter.save(update_fields=["last"])
