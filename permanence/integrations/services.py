"""Outgoing webhooks: endpoint management (administrators), emission, delivery with retries.

Emission is an outbox: `webhook_event_emit` writes one WebhookDelivery row per matching
endpoint in the caller's transaction (the very transaction that changes the data), and only
the wake-up of the worker (enqueuing `deliver_webhook`) waits for the commit. If that wake-up
is lost (a crash just after the commit), `webhooks_sweep` finds the overdue row and enqueues
it. A delivery attempt is claimed with a conditional UPDATE on (status, attempts), so a
duplicated task (or the sweeper re-enqueuing a lost one) never sends twice.

The payload is built by the app that owns the data (the inbox: `inbox/payloads.py`) and handed
over as JSON-ready dicts: this module imports no domain app.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from ninja.responses import NinjaJSONEncoder

from permanence.accounts.models import ClientAccount, User
from permanence.audit.actions import Action
from permanence.audit.services import audit_record
from permanence.core import background, clock, local_cache
from permanence.core.errors import DomainError, Forbidden
from permanence.core.isolation import each_isolated

from . import http_client, permissions
from .models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent

logger = logging.getLogger(__name__)

USER_AGENT = "Permanence-Webhooks/1"


# The delivery task, registered by tasks.py (which imports this module, not the reverse).
DELIVER_TASK = "integrations.deliver_webhook"


def max_attempts() -> int:
    return int(getattr(settings, "WEBHOOK_MAX_ATTEMPTS", 8))


def request_timeout() -> float:
    return float(getattr(settings, "WEBHOOK_TIMEOUT", 10))


def retry_delay(attempt: int) -> timedelta:
    """Exponential back-off after attempt n: 1, 2, 4 … 64 minutes (about 2 h over 8 tries)."""
    return timedelta(minutes=2 ** (attempt - 1))


def _invalid(fields: dict[str, list[str]]) -> DomainError:
    return DomainError("invalid", _("Certains champs sont invalides."), status=422, fields=fields)


# --- Endpoints (administrators) ------------------------------------------------------------

def _check_admin(actor: User) -> None:
    if not permissions.can_manage_webhooks(actor):
        raise Forbidden(_("Seuls les administrateurs gèrent les webhooks."))


@transaction.atomic
def webhook_endpoint_create(*, actor: User, url: str, events: list[str],
                            account: ClientAccount | None = None, description: str = "",
                            allow_private: bool = False) -> WebhookEndpoint:
    _check_admin(actor)
    url = (url or "").strip()
    errors: dict[str, list[str]] = {}
    if len(url) > 500:
        errors["url"] = [_("URL trop longue (500 caractères au plus).")]
    else:
        try:
            http_client.check_url(url, allow_private=allow_private)
        except http_client.UrlRefused as exc:
            errors["url"] = [str(exc)]
    wanted = list(dict.fromkeys(events or []))
    unknown = [e for e in wanted if e not in WebhookEvent.values]
    if unknown or not wanted:
        errors["events"] = [_("Choisissez au moins un événement parmi : %(e)s.")
                            % {"e": ", ".join(WebhookEvent.values)}]
    if errors:
        raise _invalid(errors)
    endpoint = WebhookEndpoint.objects.create(
        account=account, url=url, events=wanted, description=(description or "")[:200],
        allow_private=allow_private, created_by=actor)
    audit_record(actor=actor, action=Action.CREATE, target=endpoint, account=account,
                 changes={"url": url, "events": wanted, "allow_private": allow_private,
                          "account": account.pk if account else None})
    return endpoint


@transaction.atomic
def webhook_endpoint_delete(*, actor: User, endpoint: WebhookEndpoint) -> None:
    _check_admin(actor)
    audit_record(actor=actor, action=Action.DELETE, target=endpoint,
                 account=endpoint.account, changes={"url": endpoint.url})
    endpoint.delete()


@transaction.atomic
def webhook_delivery_redeliver(*, actor: User, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery again (same event id and payload) as a new log row."""
    _check_admin(actor)
    now = clock.now()
    # next_attempt_at: a lost wake-up is found by the sweeper, as for any new delivery.
    copy = WebhookDelivery.objects.create(
        endpoint=delivery.endpoint, event=delivery.event, event_id=delivery.event_id,
        payload=delivery.payload, created_at=now, next_attempt_at=now)
    audit_record(actor=actor, action=Action.CREATE, target=copy,
                 account=delivery.endpoint.account,
                 changes={"redelivery_of": delivery.pk, "event_id": str(delivery.event_id)})
    _enqueue_on_commit(copy.pk, 1)
    return copy


# --- Emission ------------------------------------------------------------------------------

def check_event(event: str) -> None:
    """ValueError for an event name that is not in the catalogue (a programming error)."""
    if event not in WebhookEvent.values:
        raise ValueError(f"unknown webhook event {event!r}")


class _Encoder(NinjaJSONEncoder):
    def default(self, o: Any) -> Any:
        try:
            return super().default(o)
        except TypeError:
            if isinstance(o, set | frozenset | tuple):
                return sorted(o, key=str)
            return str(o)


def _jsonable(data: Any) -> Any:
    """JSON types only, encoded as the API encodes them (same date format); anything else
    (a set in a `changes` dict…) becomes a list or a string rather than an error."""
    return json.loads(json.dumps(data, cls=_Encoder))


# Whether any endpoint is active, for a few seconds: asked by every inbox write. Creating,
# editing or deleting an endpoint empties the cache at once in this process (see
# core.local_cache); other processes see it within seconds.
local_cache.watch("integrations.WebhookEndpoint")
_ANY_ENDPOINT = local_cache.LocalCache("webhook_endpoints")


def any_active_endpoint() -> bool:
    return _ANY_ENDPOINT.get_or_compute(
        "any", lambda: WebhookEndpoint.objects.filter(is_active=True).exists())


def _matching_endpoints(event: str, account_id: int, *,
                        global_only: bool) -> list[WebhookEndpoint]:
    scope = Q(account__isnull=True) if global_only else (
        Q(account__isnull=True) | Q(account_id=account_id))
    candidates = WebhookEndpoint.objects.filter(scope, is_active=True)
    return [e for e in candidates if e.wants(event)]


Payload = Mapping[str, Any]


def webhook_event_emit(*, event: str, account_id: int,
                       payload: Payload | Callable[[], Payload],
                       internal: bool = False) -> list[WebhookDelivery]:
    """One delivery per active endpoint of the account (or global) subscribed to `event`,
    written in the caller's transaction; the worker is woken once it commits.

    `payload` holds the event's subject as its owner describes it (for the inbox:
    {"conversation": …, "message": …, "data": …}); a function is called only when some
    endpoint wants the event, so a write costs nothing more than the cached presence check
    when no endpoint exists. `internal` events (internal notes, system events) go to global
    endpoints only, never to an account's own endpoint: a client's systems do not see notes,
    as in the espace client.

    A failure here (a bug in a payload, an endpoint deleted meanwhile) is logged and never
    undoes the caller's write: the rows are written in a savepoint."""
    check_event(event)
    if not any_active_endpoint():
        return []  # the common case: no query for a few seconds
    endpoints = _matching_endpoints(event, account_id, global_only=internal)
    if not endpoints:
        return []
    try:
        with transaction.atomic():
            subject = payload() if callable(payload) else payload
            now = clock.now()
            event_id = uuid.uuid4()
            body: dict[str, Any] = {"id": str(event_id), "event": event,
                                    "created_at": now.isoformat()}
            for key, value in _jsonable(dict(subject)).items():
                body.setdefault(key, value)  # the envelope's keys are ours
            deliveries = WebhookDelivery.objects.bulk_create([
                WebhookDelivery(endpoint=endpoint, event=event, event_id=event_id,
                                payload=body, created_at=now, next_attempt_at=now)
                for endpoint in endpoints])
            for delivery in deliveries:
                _enqueue_on_commit(delivery.pk, 1)
    except Exception:
        logger.exception("Webhook %s for account %s not recorded", event, account_id)
        return []
    return deliveries


def _enqueue_on_commit(delivery_id: int, attempt: int, run_after: datetime | None = None) -> None:
    """Wake the worker once the current transaction commits. Losing this (a crash right
    after the commit) loses no delivery: the row is there, and the sweeper enqueues it."""
    background.enqueue_on_commit(DELIVER_TASK, delivery_id, attempt, run_after=run_after)


# --- Delivery ------------------------------------------------------------------------------

def sign(secret: str, timestamp: str, body: bytes) -> str:
    """hex HMAC-SHA256(secret, "<timestamp>.<body>")."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body,
                    hashlib.sha256).hexdigest()


def request_for(delivery: WebhookDelivery, *, at: datetime) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(delivery.payload, ensure_ascii=False, separators=(",", ":")).encode()
    timestamp = str(int(at.timestamp()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Permanence-Event": delivery.event,
        "X-Permanence-Delivery": str(delivery.event_id),
        "X-Permanence-Timestamp": timestamp,
        "X-Permanence-Signature": "sha256=" + sign(delivery.endpoint.secret, timestamp, body),
    }
    return body, headers


def webhook_deliver(delivery_id: int, attempt: int) -> str:
    """Attempt `attempt` of a delivery (run by the worker). Returns what happened."""
    now = clock.now()
    limit = max_attempts()
    if attempt < 1 or attempt > limit:
        return "skipped"
    # Claim this attempt; next_attempt_at is when the sweeper will consider it lost.
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id, status=WebhookDelivery.Status.PENDING, attempts=attempt - 1,
    ).update(attempts=attempt, next_attempt_at=now + retry_delay(attempt))
    if not claimed:
        return "skipped"
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    endpoint = delivery.endpoint
    permanent = False
    if not endpoint.is_active:
        result = http_client.HttpResult(None, "Webhook désactivé.", 0, "")
        permanent = True
    else:
        body, headers = request_for(delivery, at=now)
        try:
            result = http_client.post(endpoint.url, body, headers,
                                      allow_private=endpoint.allow_private,
                                      timeout=request_timeout())
        except http_client.UrlRefused as exc:
            result = http_client.HttpResult(None, str(exc)[:500], 0, "")
            permanent = True
    return _record(delivery, attempt, result, permanent=permanent or attempt >= limit)


@transaction.atomic
def _record(delivery: WebhookDelivery, attempt: int, result: http_client.HttpResult, *,
            permanent: bool) -> str:
    now = clock.now()
    WebhookAttempt.objects.create(delivery=delivery, number=attempt, at=now,
                                  status_code=result.status_code, error=result.error[:500],
                                  duration_ms=result.duration_ms,
                                  response_excerpt=result.excerpt[:500])
    fields: dict[str, Any] = {"last_status_code": result.status_code,
                              "last_error": result.error[:500]}
    if result.ok:
        fields.update(status=WebhookDelivery.Status.SENT, delivered_at=now,
                      next_attempt_at=None)
        outcome = "sent"
    elif permanent:
        fields.update(status=WebhookDelivery.Status.FAILED, next_attempt_at=None)
        outcome = "failed"
        logger.warning("Webhook delivery %s failed for good after %s attempt(s): %s",
                       delivery.pk, attempt, result.error)
    else:
        next_at = now + retry_delay(attempt)
        fields["next_attempt_at"] = next_at
        outcome = "retry"
    # Only while the claim is still ours: had this attempt outlived its lease, the sweeper
    # has handed the delivery to a newer attempt, whose outcome must not be overwritten.
    still_ours = WebhookDelivery.objects.filter(
        pk=delivery.pk, status=WebhookDelivery.Status.PENDING, attempts=attempt,
    ).update(**fields)
    if not still_ours:
        return "superseded"
    if outcome == "retry":
        _enqueue_on_commit(delivery.pk, attempt + 1, run_after=fields["next_attempt_at"])
    return outcome


def webhooks_sweep(*, grace: timedelta = timedelta(minutes=5),
                   keep: timedelta = timedelta(days=30)) -> dict[str, int]:
    """Re-enqueue pending deliveries whose next attempt is overdue by `grace`, and prune log
    rows older than `keep`. Overdue: never attempted although written `grace` ago (the
    wake-up after the commit was lost), a retry whose task was lost, or an attempt claimed
    by a worker that crashed (the claim moved next_attempt_at to when it counts as lost)."""
    now = clock.now()
    limit = max_attempts()
    overdue = WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING,
                                             next_attempt_at__lte=now - grace)

    def sweep_one(row: tuple[int, int]) -> bool:
        pk, attempts = row
        if attempts >= limit:
            WebhookDelivery.objects.filter(pk=pk, attempts=attempts,
                                           status=WebhookDelivery.Status.PENDING).update(
                status=WebhookDelivery.Status.FAILED, next_attempt_at=None,
                last_error=_("Abandon : dernier essai sans réponse."))
            return False
        background.enqueue(DELIVER_TASK, pk, attempts + 1)
        return True

    # One delivery's failure is logged and skipped: the others are still re-enqueued.
    requeued = each_isolated(list(overdue.values_list("pk", "attempts")[:1000]), sweep_one,
                             job="integrations.webhooks_sweep",
                             key=lambda row: row[0]).count(True)
    pruned, _detail = WebhookDelivery.objects.filter(
        created_at__lt=now - keep).exclude(status=WebhookDelivery.Status.PENDING).delete()
    return {"requeued": requeued, "pruned": pruned}
