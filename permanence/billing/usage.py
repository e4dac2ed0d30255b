"""Usage records (issue 12): one per source event, never counted twice.

`usage_record` is idempotent by `source_id`: the first call stores the record (created True),
any later call with the same source id — concurrent or not, whatever its payload — returns the
stored record unchanged (created False). Input is checked first: a bad metric, quantity,
date or account is a DomainError 422 with field errors."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from permanence.accounts.models import ClientAccount
from permanence.core import clock
from permanence.core.errors import invalid_fields

from .models_usage import Metric, UsageRecord

# The column holds 12 digits, 2 of them decimals.
MAX_QUANTITY = Decimal("9999999999.99")
CENT = Decimal("0.01")
SOURCE_ID_MAX = 200


def quantity_parse(value: Any) -> Decimal | str:
    """The quantity as a Decimal with 2 places, or the French reason it is refused."""
    if isinstance(value, bool) or value is None:
        return _("Nombre attendu.")
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return _("Nombre attendu.")
    if not number.is_finite():
        return _("Nombre attendu.")
    if number > MAX_QUANTITY:
        return _("Quantité trop grande (au plus %(max)s).") % {"max": MAX_QUANTITY}
    number = number.quantize(CENT, rounding=ROUND_HALF_UP)
    if number <= 0:
        return _("La quantité doit être strictement positive.")
    return number


def _validate(*, account_id: Any, source_id: Any, metric: Any, quantity: Any,
              occurred_at: Any) -> tuple[int, str, str, Decimal, datetime]:
    errors: dict[str, list[str]] = {}
    account = None
    if isinstance(account_id, bool) or not isinstance(account_id, int):
        errors["account"] = [_("Identifiant de compte attendu.")]
    elif not ClientAccount.objects.filter(pk=account_id).exists():
        errors["account"] = [_("Compte client introuvable.")]
    else:
        account = account_id
    source = source_id.strip() if isinstance(source_id, str) else ""
    if not source:
        errors["source_id"] = [_("Identifiant de source obligatoire.")]
    elif len(source) > SOURCE_ID_MAX:
        errors["source_id"] = [_("Trop long (%(max)d caractères au plus).")
                               % {"max": SOURCE_ID_MAX}]
    if metric not in Metric.values:
        errors["metric"] = [_("Valeur non autorisée ; attendu : %(values)s.")
                            % {"values": ", ".join(Metric.values)}]
    parsed = quantity_parse(quantity)
    if isinstance(parsed, str):
        errors["quantity"] = [parsed]
    if not isinstance(occurred_at, datetime):
        errors["occurred_at"] = [_("Date et heure ISO 8601 attendues.")]
    elif timezone.is_naive(occurred_at):
        errors["occurred_at"] = [_("Précisez le fuseau horaire (ex. 2026-11-23T09:00:00+01:00).")]
    if errors:
        raise invalid_fields(errors)
    assert account is not None and isinstance(parsed, Decimal)  # noqa: S101 (narrowing)  # nosec B101
    return account, source, str(metric), parsed, occurred_at.astimezone(UTC)


def usage_record(*, account_id: int, source_id: str, metric: str, quantity: Any,
                 occurred_at: datetime) -> tuple[UsageRecord, bool]:
    """Record `quantity` of `metric` for the account, once per `source_id`.

    Returns (record, created). The insert runs in a savepoint: when another transaction
    stored the same source id first, the unique constraint refuses ours and the stored record
    is returned instead (never counted twice)."""
    account, source, metric, amount, moment = _validate(
        account_id=account_id, source_id=source_id, metric=metric, quantity=quantity,
        occurred_at=occurred_at)
    with transaction.atomic():
        existing = UsageRecord.objects.filter(source_id=source).first()
        if existing is not None:
            return existing, False
        try:
            with transaction.atomic():  # savepoint: the outer transaction survives a clash
                record = UsageRecord.objects.create(
                    account_id=account, metric=metric, quantity=amount, occurred_at=moment,
                    source_id=source, recorded_at=clock.now())
        except IntegrityError:
            existing = UsageRecord.objects.filter(source_id=source).first()
            if existing is None:  # another constraint than the source id's
                raise
            return existing, False
    return record, True


def usage_bulk_record(rows: list[dict[str, Any]]) -> int:
    """Record many trusted rows at once (metering): those whose source id is already stored
    are skipped (ignore_conflicts keeps a concurrent run from counting twice). Each row has
    account_id, source_id, metric, quantity (Decimal > 0), occurred_at. Returns how many
    were new."""
    if not rows:
        return 0
    ids = [r["source_id"] for r in rows]
    known = set(UsageRecord.objects.filter(source_id__in=ids).values_list("source_id",
                                                                          flat=True))
    now = clock.now()
    fresh = [UsageRecord(account_id=r["account_id"], source_id=r["source_id"],
                         metric=r["metric"], quantity=r["quantity"],
                         occurred_at=r["occurred_at"], recorded_at=now)
             for r in rows if r["source_id"] not in known and r["quantity"] > 0]
    if not fresh:
        return 0
    before = UsageRecord.objects.filter(source_id__in=[u.source_id for u in fresh]).count()
    UsageRecord.objects.bulk_create(fresh, ignore_conflicts=True)
    after = UsageRecord.objects.filter(source_id__in=[u.source_id for u in fresh]).count()
    return after - before
