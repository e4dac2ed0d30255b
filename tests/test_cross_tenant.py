"""Cross-tenant probes (issue 15): every object id of account A, tried as a user of account B.

Two accounts, A and B, hold an object of every account-scoped kind a URL can name (the
authorization matrix's world, tests/test_authorization.py, and a few more objects of A's
below). The probes are users of B only: its titulaire, a collaborator (« membre ») of it and
a secretary assigned to B alone. Billing staff, supervisors and administrators see every
account by design and are not probes.

* Every page route and every API operation (read from /api/v1/openapi.json) that takes a
  parameter is either in PROBES — which of A's objects its parameters name — or in
  NOT_ACCOUNT_SCOPED with the reason it names nothing of an account (a global object, a
  bearer secret such as a quote's link, a list name). A new route with a parameter fails
  `test_every_route_with_a_parameter_is_probed` until it joins one of them.
* Each probed route is requested with A's ids by each probe: pages with GET and POST (the
  matrix's body for the route, with A as its target), API operations with their method.
  The answer must be a 404 — or the 403/405 the same user gets for an id that exists
  nowhere: a refusal that does not depend on the object (the role decorator's 403, a
  method not allowed) tells nothing about A. Anything else fails, a 2xx first of all.
* No side effect: every row of every project table and the number of audit events are the
  same after all the probes of a route as before them.
* Routes without a parameter but with A's ids in their body or query (the matrix's scoped
  routes: « start a call for account X », /api/v1/usage?account=X, ...) are probed the
  same way: refused (4xx), no side effect.
* Lists and searches (every GET page and API operation without a path parameter, public
  ones aside) are requested with A's ids in every filter parameter the views read
  (QUERY_IDS: ?compte=, ?account=, ?type=, ...): nothing of A shows (A's name, slug,
  references), nothing is written about A.
* Mixed references (MIXED): B's own object in the URL, A's in the body — merge B's
  conversation into A's, move B's appointment onto A's resource, link A's order: refused,
  nothing of A shown, no side effect.
* Websockets: tests/test_cross_tenant_sockets.py (committed data, hence a module of its own).

Were a probe to find a leak, fix it in the owning app's selector or permission, with a
regression test there; do not loosen the probe.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.urls import reverse

from tests import test_authorization as authz

# --- The probes: users of account B ------------------------------------------------------------

TITULAIRE = "titulaire de B"
MEMBRE = "membre de B"
SECRETAIRE = "secrétaire de B"
PROBE_USERS = (TITULAIRE, MEMBRE, SECRETAIRE)

# An id that exists nowhere (for an int converter) and a slug/number/token nobody has.
MISSING_INT = 2_000_000_000
MISSING_STR = "introuvable-0"


@dataclass(frozen=True)
class Probe:
    """Which of A's objects a route's parameters name.

    `obj`: the name of one of A's objects (see `_a_objects`): each parameter gets its pk, or
    its attribute of the same name for number, reference, token and slug parameters.
    `kwargs`: when the route has several parameters, builds them from A's objects.
    `fixed`: parameters that do not name an object (a step, an action): kept as they are when
    the route is requested again with an id that exists nowhere."""

    obj: str = ""
    kwargs: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    fixed: tuple[str, ...] = ()


def P(obj: str, **kwargs: Any) -> Probe:  # short: it reads as a table entry
    return Probe(obj=obj, **kwargs)


# Every route with a parameter that names something of an account (key: the URL name for
# pages, "METHOD /api/v1/path" for API operations).
PROBES: dict[str, Probe] = {
    # Accounts.
    "accounts:detail": P("account"),
    "accounts:edit": P("account"),
    "accounts:agents": P("account"),
    "accounts:channel_add": P("account"),
    "accounts:channel_remove": Probe(kwargs=lambda a: {"pk": a["account"].pk,
                                                       "channel_id": a["channel"].pk}),
    "accounts:client_user_add": P("account"),
    "account_calendar": P("account"),
    # A's secretary's own API token.
    "accounts:token_revoke": P("agent_token"),
    # Inbox.
    "inbox:detail": P("conversation"),
    "inbox:timeline": P("conversation"),
    "inbox:reply": P("conversation"),
    "inbox:note": P("conversation"),
    "inbox:callback_done": P("conversation"),
    "inbox:callback_plan": P("conversation"),
    "inbox:status": P("conversation"),
    "inbox:assign": P("conversation"),
    "inbox:qualify": P("conversation"),
    "inbox:merge": P("conversation"),
    "inbox:link_order": P("conversation"),
    "inbox:split": P("second_message"),
    "inbox:complaint_step": Probe(kwargs=lambda a: {"pk": a["complaint"].pk,
                                                    "step": "analyse"}, fixed=("step",)),
    "inbox:attachment": P("attachment"),
    # A's canned reply (inbox settings).
    "inbox:setting_edit": Probe(kwargs=lambda a: {"kind": "reponses",
                                                  "pk": a["canned_reply"].pk},
                                fixed=("kind",)),
    "inbox:setting_delete": Probe(kwargs=lambda a: {"kind": "reponses",
                                                    "pk": a["canned_reply"].pk},
                                  fixed=("kind",)),
    # Integrations: A's own webhook and one of its deliveries.
    "integrations:webhook_detail": P("webhook"),
    "integrations:webhook_delete": P("webhook"),
    "integrations:delivery_redeliver": P("webhook_delivery"),
    # Desk.
    "desk:consignes_detail": P("account"),
    "desk:consignes_edit": P("account"),
    "desk:consignes_history": P("account"),
    "desk:consignes_version": Probe(kwargs=lambda a: {"account_pk": a["account"].pk,
                                                      "number": a["consignes"].number},
                                    fixed=("number",)),
    "desk:consignes_read": P("account"),
    "desk:call": P("call"),
    "desk:call_save": P("call"),
    "desk:call_forward": P("call"),
    "desk:call_forwards": P("call"),
    "desk:call_close": P("call"),
    "desk:call_recording": P("recorded_call"),
    "desk:callback_done": P("callback"),
    "desk:callback_cancel": P("callback"),
    "desk:campaign": P("campaign"),
    "desk:campaign_status": P("campaign"),
    "desk:campaign_import": P("campaign"),
    "desk:campaign_next": P("campaign"),
    "desk:campaign_target": P("campaign_target"),
    "desk:campaign_attempt": P("campaign_target"),
    "desk:campaign_dial": P("campaign_target"),
    "desk:setup_detail": P("account"),
    "desk:setup_tick": P("account"),
    "desk:setup_live": P("account"),
    # Storefront: orders, quotes, payments, the cart of A's client.
    "orders:detail": P("order"),
    "orders:check": P("order"),
    "orders:information": P("order"),
    "orders:transition": P("order"),
    "orders:contact": P("order"),
    "orders:summary_pdf": P("order"),
    "quotes:detail": P("quote"),
    "quotes:send": P("quote"),
    "quotes:cancel": P("quote"),
    "quotes:reopen": P("quote"),
    "quotes:duplicate": P("quote"),
    "quotes:link_account": P("quote"),
    "quotes:pdf": P("quote"),
    "payments:detail": P("payment"),
    "payments:refund": P("payment"),
    "shop:cart_line_update": P("cart_line"),
    "shop:cart_line_remove": P("cart_line"),
    "shop:order_detail": P("order"),
    "shop:order_pay": P("order"),
    "shop:order_thanks": P("order"),
    # Billing, recovery, e-invoicing.
    "billing:invoice": P("invoice"),
    "billing:invoice_pdf": P("invoice"),
    "billing:credit_note_new": P("invoice"),
    "billing:gesture_new": P("invoice"),
    "billing:refund_new": P("credit_note"),
    "billing:schedule_new": P("invoice"),
    "billing:schedule": P("schedule"),
    "billing:schedule_action": Probe(kwargs=lambda a: {"pk": a["schedule"].pk,
                                                       "action": "debiter"}, fixed=("action",)),
    "billing:subscription_action": Probe(kwargs=lambda a: {"pk": a["subscription"].pk,
                                                           "action": "reprendre"},
                                         fixed=("action",)),
    "einvoicing:retransmit": P("invoice"),
    "recovery:incident": P("payment_incident"),
    "recovery:incident_action": Probe(kwargs=lambda a: {"pk": a["payment_incident"].pk,
                                                        "action": "note"}, fixed=("action",)),
    "recovery:transfer_match": P("invoice"),
    "recovery:pay": P("invoice"),
    # Feedback left from A's espace client.
    "feedback:detail": P("feedback"),
    # Quality: A's own grid and its criterion, reviews of A's call.
    "quality:grid": P("quality_grid"),
    "quality:criterion_add": P("quality_grid"),
    "quality:criterion": Probe(kwargs=lambda a: {"pk": a["quality_grid"].pk,
                                                 "criterion_pk": a["quality_criterion"].pk}),
    "quality:criterion_delete": Probe(kwargs=lambda a: {
        "pk": a["quality_grid"].pk, "criterion_pk": a["quality_criterion"].pk}),
    "quality:review_call": P("call"),
    "quality:review_conversation": P("conversation"),
    "quality:review": P("quality_review"),
    "quality:acknowledge": P("quality_review"),
    # Live chat.
    "livechat:accept": P("chat"),
    "livechat:reply": P("chat"),
    "livechat:transfer": P("chat"),
    "livechat:end": P("chat"),
    "livechat:settings": P("account"),
    # Agenda.
    "agenda:appointment": P("appointment"),
    "agenda:move": P("appointment"),
    "agenda:cancel": P("appointment"),
    "agenda:mark": P("appointment"),
    "agenda:call_slots": P("call"),
    "agenda:call_book": P("call"),
    "agenda:account_setup": P("account"),
    "agenda:resource": P("agenda_resource"),
    "agenda:exception_add": P("agenda_resource"),
    "agenda:exception_remove": P("agenda_absence"),
    "agenda:ics_revoke": P("agenda_resource"),
    "agenda:sync_now": P("agenda_resource"),
    # Knowledge base: A's internal procedure, on staff, client and public routes alike.
    "knowledge:detail": P("knowledge_internal"),
    "knowledge:edit": P("knowledge_internal"),
    "knowledge:status": P("knowledge_internal"),
    "knowledge:review": P("knowledge_internal"),
    "knowledge_portal:edit": P("knowledge_public"),
    "knowledge_portal:status": P("knowledge_public"),
    "knowledge_public:faq_article": P("knowledge_internal"),
    "knowledge_public:vote": P("knowledge_internal"),
    "knowledge_public:help_article": Probe(kwargs=lambda a: {
        "slug": a["account"].slug, "pk": a["knowledge_internal"].pk}, fixed=("slug",)),
    # Privacy.
    "privacy_request_detail": P("subject_request"),
    "privacy_request_action": P("subject_request"),
    "privacy_export_download": P("subject_export"),
    "privacy_client_export_download": P("subject_export"),
    # Reports: an export A's secretary scheduled about A.
    "reports_scheduled_export_delete": P("scheduled_export"),
    # Espace client.
    "portal:request_detail": P("request"),
    "portal:request_reply": P("request"),
    "portal:request_attachment": P("attachment"),
    "portal:activity_detail": P("conversation"),
    "portal:activity_instruction": P("conversation"),
    "portal:call_detail": P("call"),
    "portal:call_handled": P("call"),
    "portal:call_recording": P("recorded_call"),
    "portal:order_detail": P("order"),
    "portal:order_pdf": P("order"),
    "portal:agenda_appointment": P("appointment"),
    "portal:agenda_move": P("appointment"),
    "portal:agenda_cancel": P("appointment"),
    "portal:invoice": P("invoice"),
    "portal:invoice_pdf": P("invoice"),
    # --- API ---
    "GET /api/v1/accounts/{account_id}": P("account"),
    "PATCH /api/v1/accounts/{account_id}": P("account"),
    "GET /api/v1/accounts/{account_id}/calendar": P("account"),
    "PUT /api/v1/accounts/{account_id}/calendar": P("account"),
    "GET /api/v1/accounts/{account_id}/consignes": P("account"),
    "PUT /api/v1/accounts/{account_id}/consignes": P("account"),
    "GET /api/v1/accounts/{account_id}/consignes/versions": P("account"),
    "POST /api/v1/accounts/{account_id}/consignes/read": P("account"),
    "GET /api/v1/conversations/{conversation_id}": P("conversation"),
    "PATCH /api/v1/conversations/{conversation_id}": P("conversation"),
    "POST /api/v1/conversations/{conversation_id}/messages": P("conversation"),
    "POST /api/v1/conversations/{conversation_id}/merge": P("conversation"),
    "GET /api/v1/agenda/resources/{resource_id}": P("agenda_resource"),
    "PATCH /api/v1/agenda/resources/{resource_id}": P("agenda_resource"),
    "POST /api/v1/agenda/resources/{resource_id}/sync": P("agenda_resource"),
    "GET /api/v1/agenda/appointment-types/{type_id}": P("agenda_type"),
    "PATCH /api/v1/agenda/appointment-types/{type_id}": P("agenda_type"),
    "GET /api/v1/agenda/appointments/{appointment_id}": P("appointment"),
    "PATCH /api/v1/agenda/appointments/{appointment_id}": P("appointment"),
    "GET /api/v1/orders/{order_id}": P("order"),
    "POST /api/v1/orders/{order_id}/transition": P("order"),
    "GET /api/v1/quotes/{quote_id}": P("quote"),
    "GET /api/v1/invoices/{number}": P("invoice"),
    "GET /api/v1/invoices/{number}/pdf": P("invoice"),
    "GET /api/v1/invoices/{number}/facturx": P("invoice"),
    "GET /api/v1/credit-notes/{number}": P("credit_note"),
    "GET /api/v1/credit-notes/{number}/pdf": P("credit_note"),
    "GET /api/v1/subscriptions/{subscription_id}": P("subscription"),
    "GET /api/v1/knowledge/articles/{article_id}": P("knowledge_internal"),
    "PATCH /api/v1/knowledge/articles/{article_id}": P("knowledge_internal"),
    "DELETE /api/v1/knowledge/articles/{article_id}": P("knowledge_internal"),
}

_GLOBAL = "a global object of the operator, no account's"
_BEARER = ("the parameter is a bearer secret (a link sent to one person): whoever holds it "
           "is allowed, logged in or not; B's users do not hold A's")
_PUBLIC = "a public page of the account, for anybody (its slug is published on its site)"

# Routes whose parameters name nothing of an account, with the reason.
NOT_ACCOUNT_SCOPED: dict[str, str] = {
    "password_reset_confirm": "a password reset link (user id and signed token)",
    "inbox:settings": "a list name (réponses types, équipes, ...)",
    "portal:section": "a section name of the espace client",
    "billing:export_sales": "a file format",
    "billing:export_payments": "a file format",
    "reports_client_pdf": "a month; the account is the session's own",
    "payments:event_retry": "a payment provider's event: " + _GLOBAL,
    "site_admin:offer_edit": "the catalog: " + _GLOBAL,
    "site_admin:offer_publish": "the catalog: " + _GLOBAL,
    "site_admin:page_edit": "the public site: " + _GLOBAL,
    "site_admin:terms_edit": "the CGV: " + _GLOBAL,
    "site_admin:terms_publish": "the CGV: " + _GLOBAL,
    "site:plan": "the catalog: " + _GLOBAL,
    "site:plan_price": "the catalog: " + _GLOBAL,
    "site:sector": "a sector name",
    "site:terms_pdf": "the CGV: " + _GLOBAL,
    "site:terms_version": "the CGV: " + _GLOBAL,
    "site:page": "the public site: " + _GLOBAL,
    "GET /api/v1/catalog/plans/{slug}": "the catalog: " + _GLOBAL,
    "status_incident": "the incident log: " + _GLOBAL,
    "status_incident_update": "the incident log: " + _GLOBAL,
    "status_incident_delete": "the incident log: " + _GLOBAL,
    "privacy_breach": "the breach register: " + _GLOBAL,
    "announcement_delete": "announcements: " + _GLOBAL,
    "reports_objective_delete": "the team's objectives: " + _GLOBAL,
    "reports_challenge_delete": "the team's challenges: " + _GLOBAL,
    "planning:shift_edit": "the operator's staff planning, no account's",
    "planning:shift_delete": "the operator's staff planning, no account's",
    "accounts:staff_edit": "the operator's staff, no account's",
    "accounts:staff_two_factor_reset": "the operator's staff, no account's",
    "quote_public:detail": _BEARER,
    "quote_public:pdf": _BEARER,
    "quote_public:accept": _BEARER,
    "quote_public:decline": _BEARER,
    "survey": _BEARER,
    "forward_read": _BEARER,
    "agenda_public:manage": _BEARER,
    "agenda_public:ics": _BEARER,
    "livechat:messages": _BEARER + " (the visitor's chat token)",
    "livechat:actions": _BEARER + " (the visitor's chat token)",
    "livechat:attachments": _BEARER + " (the visitor's chat token)",
    "livechat:widget": _PUBLIC,
    "livechat:start": _PUBLIC,
    "livechat:demo_site": _PUBLIC,
    "channels_webform:account": _PUBLIC,
    "agenda_public:booking": _PUBLIC,
    "agenda_public:booking_slots": _PUBLIC,
    "knowledge_public:help": _PUBLIC,
}

# --- Discovery ---------------------------------------------------------------------------------

_PAGE_PARAM = re.compile(r"<(?:(\w+):)?(\w+)>")


@dataclass(frozen=True)
class Route:
    key: str
    path: str  # the page's URL name, or the API path with {parameters}
    params: dict[str, str]  # parameter → "int" or "str"
    methods: tuple[str, ...]
    api: bool


def _api_schema() -> dict[str, Any]:
    """The API as it documents itself: /api/v1/openapi.json, fetched like any client."""
    response = Client().get(f"{authz.API_PREFIX}/openapi.json")
    assert response.status_code == 200
    return dict(response.json())


def routes_with_parameters(schema: dict[str, Any] | None = None) -> dict[str, Route]:
    """Every page route and every API operation that takes a path parameter."""
    found: dict[str, Route] = {}
    api_routes = set(authz._api_operations().values())
    for route, key in authz._url_patterns():
        if route in api_routes or any(route.startswith(p) for p in authz.EXEMPT_PREFIXES):
            continue
        params = {name: "int" if conv == "int" else "str"
                  for conv, name in _PAGE_PARAM.findall(route)}
        if params:
            found[key] = Route(key, key, params, ("GET", "POST"), api=False)
    schema = schema if schema is not None else _api_schema()
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            params = {p["name"]: "int" if p.get("schema", {}).get("type") == "integer" else "str"
                      for p in operation.get("parameters", []) if p["in"] == "path"}
            if params:
                key = f"{method.upper()} {path}"
                found[key] = Route(key, path, params, (method.upper(),), api=True)
    return found


def coverage_problems(routes: dict[str, Route]) -> list[str]:
    problems = []
    missing = sorted(set(routes) - set(PROBES) - set(NOT_ACCOUNT_SCOPED))
    if missing:
        problems.append(
            f"Route(s) {missing} take a parameter but the cross-tenant probes do not cover "
            "them: add each to PROBES in tests/test_cross_tenant.py with the object of "
            "account A it names (create one in _a_objects if the world has none), or to "
            "NOT_ACCOUNT_SCOPED with the reason it names nothing of an account.")
    both = sorted(set(PROBES) & set(NOT_ACCOUNT_SCOPED))
    if both:
        problems.append(f"Route(s) {both} are both probed and declared not account-scoped.")
    stale = sorted((set(PROBES) | set(NOT_ACCOUNT_SCOPED)) - set(routes))
    if stale:
        problems.append(f"The probes list route(s) that no longer exist: {stale}")
    return problems


# --- The world ---------------------------------------------------------------------------------


@dataclass
class World:
    ctx: authz.Ctx  # the authorization matrix's world, its target set to A
    a: dict[str, Any]  # A's objects by name
    users: dict[str, Any]  # the probes, by name
    tokens: dict[str, str]  # their API tokens
    account_b: Any
    snapshot_extra: dict[str, Any] = field(default_factory=dict)


def _a_objects(ctx: authz.Ctx) -> dict[str, Any]:
    """A's objects: the matrix's world's, and a few more so that every kind a URL names
    exists for A (a credit note, a canned reply, a webhook, a quality grid, ...)."""
    from django.utils import timezone

    from permanence.billing.credit_notes import credit_note_issue
    from permanence.billing.models_schedules import PaymentSchedule
    from permanence.inbox.models import CannedReply
    from permanence.integrations.models import WebhookDelivery, WebhookEndpoint
    from permanence.payments.models import Payment
    from permanence.quality import services as quality
    from permanence.recovery.models import PaymentIncident
    from permanence.reports import scheduled

    account = ctx.account
    admin, supervisor = ctx.users[authz.ADMIN], ctx.users[authz.SUPERVISOR]
    a = dict(ctx.objects[account.pk])
    now = timezone.now()
    webhook = WebhookEndpoint.objects.create(account=account, url="https://hooks.example.com/a",
                                             events=["conversation.created"])
    grid = quality.grid_create(actor=supervisor, name="Grille du compte A", account=account)
    a.update({
        "account": account,
        "agent_token": ctx.agent_token,
        "quote": ctx.extra["quotes"][account.pk],
        "payment": Payment.objects.get(order=a["order"]),
        "payment_incident": PaymentIncident.objects.get(account=account),
        "schedule": PaymentSchedule.objects.get(account=account),
        "feedback": ctx.extra["feedback"],
        "cart_line": ctx.extra["cart_line"],
        "credit_note": credit_note_issue(actor=admin, invoice=a["invoice"],
                                         reason="Geste commercial", amount_ht_cents=100),
        "canned_reply": CannedReply.objects.create(account=account, title="Horaires A",
                                                   body="Ouvert de 9 h à 18 h."),
        "webhook": webhook,
        "webhook_delivery": WebhookDelivery.objects.create(
            endpoint=webhook, event="conversation.created", payload={}, status="failed",
            created_at=now),
        "quality_grid": grid,
        "quality_criterion": quality.criterion_save(actor=supervisor, grid=grid,
                                                    label="Accueil A", weight=1, order=1),
        "scheduled_export": scheduled.scheduled_export_create(
            actor=ctx.users[authz.AGENT], what="", which="", account_id=account.pk,
            channel="", frequency="mensuel", fmt="csv"),
    })
    return a


def _build() -> World:
    from permanence.accounts.models import Membership, User

    ctx = authz._build_world()
    ctx.target = ctx.account
    a = _a_objects(ctx)
    membre = User.objects.create_user("membre-b@test.fr", None, role="client",
                                      full_name="Membre B")
    Membership.objects.create(user=membre, account=ctx.other_account, role="membre")
    users = {TITULAIRE: ctx.users[authz.OUTSIDER], MEMBRE: membre,
             SECRETAIRE: ctx.users[authz.OTHER_AGENT]}
    tokens = {name: authz.api_token_for(user) for name, user in users.items()}
    return World(ctx=ctx, a=a, users=users, tokens=tokens, account_b=ctx.other_account)


@pytest.fixture(scope="module")
def world(django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: Any) -> Any:
    """Built once for the module inside a transaction rolled back at the end; each test runs
    in a savepoint inside it (pytest-django's `db`), as in the authorization matrix."""
    from django.db import transaction
    from django.test import override_settings

    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            with override_settings(
                    MEDIA_ROOT=str(tmp_path_factory.mktemp("probes-media")),
                    EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
                built = _build()
            yield built
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.fixture
def w(world: World, db: Any) -> World:
    return dataclasses.replace(world, ctx=dataclasses.replace(world.ctx, target=world.ctx.account))


def owner_accounts(obj: Any, depth: int = 0) -> set[int]:
    """The accounts an object belongs to: its own account, or its parent's (a message's
    conversation's, a cart line's buyer's...); a user's, those they are a member of or
    assigned to."""
    from permanence.accounts.models import ClientAccount, User

    if isinstance(obj, ClientAccount):
        return {obj.pk}
    if isinstance(obj, User):
        return (set(obj.memberships.values_list("account_id", flat=True))
                | set(ClientAccount.objects.filter(assigned_agents=obj)
                      .values_list("pk", flat=True)))
    if getattr(obj, "account_id", None):
        return {obj.account_id}
    owners: set[int] = set()
    if depth < 3:
        for f in obj._meta.concrete_fields:
            if f.is_relation and getattr(obj, f.attname) is not None:
                owners |= owner_accounts(getattr(obj, f.name), depth + 1)
    return owners


# --- Requests ----------------------------------------------------------------------------------


def _kwargs(probe: Probe, route: Route, a: dict[str, Any]) -> dict[str, Any]:
    if probe.kwargs is not None:
        return probe.kwargs(a)
    obj = a[probe.obj]
    return {name: getattr(obj, name) if name in ("number", "reference", "token", "slug")
            else obj.pk for name in route.params}


def _missing(kwargs: dict[str, Any], route: Route, probe: Probe) -> dict[str, Any]:
    """The same parameters, the object's replaced by an id that exists nowhere."""
    return {name: value if name in probe.fixed
            else MISSING_INT if route.params[name] == "int" else MISSING_STR
            for name, value in kwargs.items()}


def _client(w: World, name: str, *, api: bool) -> Client:
    if api:
        client = authz._client(w.tokens[name])
    else:
        client = authz._client()
        client.force_login(w.users[name], backend="django.contrib.auth.backends.ModelBackend")
    return client


def _send(client: Client, route: Route, method: str, kwargs: dict[str, Any],
          data: dict[str, Any], query: dict[str, Any] | None = None) -> Any:
    if route.api:
        url = route.path.format(**kwargs)
        if query:
            url += "?" + urlencode(query)
        return client.generic(method, url, json.dumps(data), content_type="application/json")
    url = reverse(route.path, kwargs=kwargs or None)
    return client.get(url, query or {}) if method == "GET" else client.post(url, data)


def _status(*args: Any) -> int:
    return int(_send(*args).status_code)


def _matrix_route(key: str) -> authz.Route | None:
    return authz.API_MATRIX.get(key) or authz.MATRIX.get(key)


def _body(w: World, key: str, method: str) -> dict[str, Any]:
    """The matrix's body for the route (with A as its target), for its own method."""
    route = _matrix_route(key)
    if route is None or route.data is None or route.method != method:
        return {}
    return route.data(w.ctx)


def snapshot(about: Any = None) -> dict[str, Any]:
    """The authorization matrix's snapshot (every row of every project table, the audit
    events recording a write) and the number of audit events, reads included (a refused
    request must not be logged as an access to A's data either) — or, with `about`, of those
    about that account (a list of B's own may log its export)."""
    from permanence.audit.models import AuditEvent

    state = authz.snapshot()
    events = AuditEvent.objects.filter(account=about) if about is not None else (
        AuditEvent.objects.all())
    state["audit_events"] = events.count()
    return state


def _changed(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    return sorted(k for k in before if before[k] != after.get(k))


def _verdict(status: int, missing_status: Callable[[], int]) -> str | None:
    """None when the answer tells nothing about A's object, else what is wrong."""
    if status == 404:
        return None
    if status in (403, 405):
        other = missing_status()
        if other == status:
            return None
        return f"{status}, but {other} for an id that exists nowhere: the object's existence shows"
    return f"{status}: expected 404 (or the same refusal as for an id that exists nowhere)"


# --- Tests: coverage ---------------------------------------------------------------------------


def test_every_route_with_a_parameter_is_probed() -> None:
    problems = coverage_problems(routes_with_parameters())
    assert not problems, "\n".join(problems)


def test_a_new_route_with_an_id_fails_the_coverage_check(settings: Any) -> None:
    """The check above catches an unprobed page route with an id and an unprobed API
    operation with one."""
    import sys
    import types

    from django.http import HttpResponse
    from django.urls import path

    import permanence.urls

    module = types.ModuleType("probes_extra_urls")
    module.urlpatterns = [  # type: ignore[attr-defined]
        *permanence.urls.urlpatterns,
        path("app/contacts/<int:pk>/", lambda request, pk: HttpResponse(), name="contact_new"),
    ]
    schema = _api_schema()
    schema["paths"]["/api/v1/contacts/{contact_id}"] = {"delete": {"parameters": [
        {"name": "contact_id", "in": "path", "schema": {"type": "integer"}}]}}
    sys.modules[module.__name__] = module
    try:
        settings.ROOT_URLCONF = module.__name__
        problems = coverage_problems(routes_with_parameters(schema=schema))
    finally:
        del sys.modules[module.__name__]
    assert len(problems) == 1, problems
    assert "'DELETE /api/v1/contacts/{contact_id}'" in problems[0]
    assert "'contact_new'" in problems[0]


class _Recorder(dict[str, Any]):
    """A's objects, noting which ones a probe's `kwargs` reads."""

    def __init__(self, objects: dict[str, Any]) -> None:
        super().__init__(objects)
        self.read: list[str] = []

    def __getitem__(self, name: str) -> Any:
        self.read.append(name)
        return super().__getitem__(name)


def _objects_named(probe: Probe, a: dict[str, Any]) -> list[str]:
    if probe.kwargs is None:
        return [probe.obj]
    recorder = _Recorder(a)
    probe.kwargs(recorder)
    return recorder.read


def test_each_probe_names_an_object_of_a_and_not_of_b(w: World) -> None:
    """The substituted ids are really A's: each object belongs to A (directly or through its
    parent) and not to B — a probe on a global object would prove nothing."""
    routes = routes_with_parameters()
    wrong = []
    for key, probe in PROBES.items():
        names = _objects_named(probe, w.a)
        for name in names:
            owners = owner_accounts(w.a[name])
            if w.ctx.account.pk not in owners or w.account_b.pk in owners:
                wrong.append(f"{key}: {name} belongs to {owners}")
        assert set(_kwargs(probe, routes[key], w.a)) == set(routes[key].params), key
    assert not wrong, wrong


def test_b_users_are_no_members_of_a(w: World) -> None:
    """The probes see B only (else every 404 below would prove nothing)."""
    for name, user in w.users.items():
        assert owner_accounts(user) == {w.account_b.pk}, name


# --- Tests: HTTP probes ------------------------------------------------------------------------


def _probe_keys() -> list[str]:
    return sorted(PROBES)


@pytest.mark.parametrize("key", _probe_keys())
def test_a_user_of_b_cannot_reach_a_object(w: World, key: str) -> None:
    route = routes_with_parameters_cached()[key]
    probe = PROBES[key]
    kwargs = _kwargs(probe, route, w.a)
    problems = []
    clients = {name: _client(w, name, api=route.api) for name in PROBE_USERS}  # logins: audited
    before = snapshot()
    for name, client in clients.items():
        for method in route.methods:
            data = _body(w, key, method)
            status = _send(client, route, method, kwargs, data).status_code
            problem = _verdict(status, functools.partial(
                _status, client, route, method, _missing(kwargs, route, probe), data))
            if problem:
                problems.append(f"{method} {key} {kwargs} as {name}: {problem}")
    after = snapshot()
    assert not problems, "\n".join(problems)
    assert not _changed(before, after), f"{key}: a refused request changed {_changed(before, after)}"


_ROUTES: list[dict[str, Route]] = []


def routes_with_parameters_cached() -> dict[str, Route]:
    if not _ROUTES:
        _ROUTES.append(routes_with_parameters())
    return _ROUTES[0]


# Routes without a parameter whose body or query names an account or an object of it (the
# matrix's scoped routes), public ones aside: B's users name A's there.
def _body_probe_keys() -> list[str]:
    keys = []
    for key, route in {**authz.MATRIX, **authz.API_MATRIX}.items():
        if not route.scoped or route.kwargs is not None:
            continue
        if route.expected[authz.OUTSIDER] == authz.OK and route.expected[authz.ANON] == authz.OK:
            continue  # public: anybody may name any account (the bot, the contact form)
        keys.append(key)
    return sorted(keys)


@pytest.mark.parametrize("key", _body_probe_keys())
def test_a_user_of_b_cannot_name_a_in_a_body_or_query(w: World, key: str) -> None:
    matrix_route = _matrix_route(key)
    assert matrix_route is not None
    api = key in authz.API_MATRIX
    path = key.split(" ", 1)[1] if api else key
    route = Route(key, path, {}, (matrix_route.method,), api=api)
    data = matrix_route.data(w.ctx) if matrix_route.data else {}
    query = matrix_route.query(w.ctx) if matrix_route.query else None
    problems = []
    clients = {name: _client(w, name, api=api) for name in PROBE_USERS}  # logins: audited
    before = snapshot()
    for name, client in clients.items():
        response = _send(client, route, matrix_route.method, {}, data, query)
        if response.status_code not in (403, 404, 422):
            problems.append(f"{matrix_route.method} {key} as {name}: {response.status_code}")
    after = snapshot()
    assert not problems, "\n".join(problems)
    assert not _changed(before, after), f"{key}: a refused request changed {_changed(before, after)}"


def test_the_probes_would_see_a_leak(w: World) -> None:
    """The detectors are not blind: A's own titulaire gets A's conversation (200), which
    the verdict fails, and finds A's markers in its list; a write on A's conversation changes
    the snapshot."""
    from permanence.inbox import services as inbox

    route = routes_with_parameters_cached()["inbox:detail"]
    kwargs = _kwargs(PROBES["portal:activity_detail"], route, w.a)
    client = authz._client()
    client.force_login(w.ctx.users[authz.CLIENT],
                       backend="django.contrib.auth.backends.ModelBackend")
    status = client.get(reverse("portal:activity_detail", kwargs=kwargs)).status_code
    assert status == 200
    assert _verdict(status, lambda: 404) is not None
    assert _verdict(403, lambda: 404) is not None  # 403 only for A's id: existence shows
    assert _verdict(403, lambda: 403) is None
    # A's markers are found where A's data is shown (A's titulaire's list of activity).
    text = client.get(reverse("portal:activity")).content.decode()
    assert [m for m in _markers(w.a) if m in text]
    before = snapshot()
    inbox.conversation_add_note(actor=w.ctx.users[authz.ADMIN], conversation=w.a["conversation"],
                                body="Note")
    assert _changed(before, snapshot())


# --- Lists and searches: A's ids in the query string -------------------------------------------

# Query parameters the pages and the API read to filter by an object (grep request.GET and
# the API's Query schemas): each gets A's id, so that a list filtered « for A » shows nothing
# of A to B's users.
QUERY_IDS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "compte": lambda a: a["account"].pk,
    "account": lambda a: a["account"].pk,
    "account_id": lambda a: a["account"].pk,
    "conversation": lambda a: a["conversation"].pk,
    "chat": lambda a: a["chat"].pk,
    "type": lambda a: a["agenda_type"].pk,
    "ressource": lambda a: a["agenda_resource"].pk,
    "resource": lambda a: a["agenda_resource"].pk,
    "call": lambda a: a["call"].pk,
    "order": lambda a: a["order"].pk,
}


def _markers(a: dict[str, Any]) -> list[str]:
    """Strings only A's data holds: its name and slug (in its contacts' e-mail addresses
    too), its conversations' references."""
    return [a["account"].name, a["account"].slug, a["conversation"].reference,
            a["complaint"].reference, a["request"].reference, a["order"].reference]


def _list_routes() -> list[str]:
    """GET pages and API operations without a path parameter, public ones aside."""
    keys = []
    for key, route in {**authz.MATRIX, **authz.API_MATRIX}.items():
        if route.method != "GET" or route.kwargs is not None:
            continue
        if route.expected[authz.ANON] == authz.OK:
            continue  # public: the same for everybody
        keys.append(key)
    return sorted(keys)


@pytest.mark.parametrize("key", _list_routes())
def test_a_list_filtered_on_a_shows_b_users_nothing_of_a(w: World, key: str) -> None:
    api = key in authz.API_MATRIX
    path = key.split(" ", 1)[1] if api else key
    route = Route(key, path, {}, ("GET",), api=api)
    query = {name: value(w.a) for name, value in QUERY_IDS.items()}
    clients = {name: _client(w, name, api=api) for name in PROBE_USERS}  # logins: audited
    problems = []
    before = snapshot(about=w.ctx.account)
    for name, client in clients.items():
        response = _send(client, route, "GET", {}, {}, query)
        if response.status_code >= 500:
            problems.append(f"{key} as {name}: {response.status_code}")
        if response.get("Content-Type", "").startswith(("text/", "application/json")):
            body = b"".join(response) if response.streaming else response.content
            text = body.decode("utf-8", "replace")
            problems += [f"{key}?{urlencode(query)} as {name}: {response.status_code} shows "
                         f"{marker!r}" for marker in _markers(w.a) if marker in text]
    after = snapshot(about=w.ctx.account)
    assert not problems, "\n".join(problems)
    assert not _changed(before, after), f"{key}: a read changed {_changed(before, after)}"


# --- Mixed references: B's object in the URL, A's in the body ----------------------------------


def _b(w: World, name: str) -> Any:
    return w.ctx.objects[w.account_b.pk][name]


# Routes that name a second object in their body: B's user, allowed on B's object of the URL,
# names A's object in the body (merge B's conversation into A's, move B's appointment onto A's
# resource, ...). (route, user) → (URL parameters of B's, body naming A's).
MIXED: dict[tuple[str, str], Callable[[World], tuple[dict[str, Any], dict[str, Any]]]] = {
    ("inbox:merge", SECRETAIRE): lambda w: (
        {"pk": _b(w, "conversation").pk}, {"target": w.a["complaint"].reference}),
    ("inbox:link_order", SECRETAIRE): lambda w: (
        {"pk": _b(w, "conversation").pk}, {"order": w.a["order"].reference}),
    ("POST /api/v1/conversations/{conversation_id}/merge", SECRETAIRE): lambda w: (
        {"conversation_id": _b(w, "conversation").pk},
        {"into": w.a["complaint"].pk, "inform_customer": False}),
    ("agenda:move", SECRETAIRE): lambda w: (
        {"pk": _b(w, "appointment").pk},
        {"slot": f"{w.a['agenda_resource'].pk}|{_b(w, 'appointment').start.isoformat()}"}),
    ("portal:agenda_move", TITULAIRE): lambda w: (
        {"pk": _b(w, "appointment").pk},
        {"slot": f"{w.a['agenda_resource'].pk}|{_b(w, 'appointment').start.isoformat()}"}),
    ("agenda:call_book", SECRETAIRE): lambda w: (
        {"call_id": _b(w, "call").pk},
        {"type": w.a["agenda_type"].pk, "contact_name": "Paul Durand",
         "slot": f"{w.a['agenda_resource'].pk}|2030-01-08T10:00:00+01:00"}),
    ("knowledge_public:help_article", TITULAIRE): lambda w: (
        {"slug": w.account_b.slug, "pk": w.a["knowledge_public"].pk}, {}),
}


@pytest.mark.parametrize(("key", "user"), sorted(MIXED))
def test_b_object_in_the_url_cannot_reach_a_object_in_the_body(
        w: World, key: str, user: str) -> None:
    route = routes_with_parameters_cached()[key]
    kwargs, data = MIXED[(key, user)](w)
    method = route.methods[-1] if route.api else _matrix_route(key).method  # type: ignore[union-attr]
    client = _client(w, user, api=route.api)  # the login is audited
    before = snapshot()
    response = _send(client, route, method, kwargs, data)
    after = snapshot()
    assert response.status_code < 500, response.status_code
    assert not 200 <= response.status_code < 300 or method != "GET" or (
        response.status_code == 404), f"{key}: {response.status_code}"
    if response.get("Content-Type", "").startswith(("text/", "application/json")):
        text = response.content.decode("utf-8", "replace")
        # The form shown again with the user's own input (« no case D-... visible ») is no
        # leak: the same as for a reference that exists nowhere.
        echoed = {str(v) for v in data.values()}
        assert [m for m in _markers(w.a) if m in text and m not in echoed] == [], key
    assert not _changed(before, after), f"{key}: changed {_changed(before, after)}"
