"""The authorization matrix: every URL pattern and every API operation, for every role.

`test_every_route_is_in_the_matrix` discovers the routes (Django's URL resolver, recursively,
and the django-ninja API's operations) and fails when one is missing from MATRIX / API_MATRIX
(or when the matrix lists a route that no longer exists). Adding a view or an endpoint
therefore forces whoever adds it to decide, here, who may use it.

`test_page_access` / `test_api_access` request each route as each role and check the outcome:
allowed (2xx, or a redirect that is not to the login page), the login redirect (anonymous
pages), 401 (anonymous API), 403 or 404 (refused). A refused request must leave no trace:
a snapshot of every table of the project's apps (and the number of create/update/delete
audit events) is compared before and after it.

Account-scoped routes are requested twice: on `account` (assigned to `agent`, `client_user`
is its titulaire) and on `other_account` (assigned to `other_agent`, `outsider_client` is its
titulaire); for the second one, the expectations of the agent/other agent and
client/outsider pairs are swapped.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from permanence.privacy.models import Breach
from permanence.status.models import Incident

# --- Roles and outcomes ------------------------------------------------------------------------

ANON = "anonymous"
CLIENT = "client"
OUTSIDER = "outsider_client"
AGENT = "agent"
OTHER_AGENT = "other_agent"
SUPERVISOR = "supervisor"
BILLING = "billing"
ADMIN = "admin"
ROLES = (ANON, CLIENT, OUTSIDER, AGENT, OTHER_AGENT, SUPERVISOR, BILLING, ADMIN)
AUTHENTICATED = frozenset(ROLES) - {ANON}
STAFF = frozenset({AGENT, OTHER_AGENT, SUPERVISOR, BILLING, ADMIN})
CLIENTS = frozenset({CLIENT, OUTSIDER})
MANAGERS = frozenset({SUPERVISOR, ADMIN})

OK = "ok"  # 2xx, or a redirect somewhere else than the login page
LOGIN = "login"  # 302 to the login page

# Mirror of the roles when an account-scoped route is requested on `other_account`.
MIRROR = {AGENT: OTHER_AGENT, OTHER_AGENT: AGENT, CLIENT: OUTSIDER, OUTSIDER: CLIENT}

# Routes deliberately left out of the matrix, with the reason.
EXEMPT_PREFIXES = {
    "django-admin/": "Django's admin site, superusers only, with its own login "
                     "(checked separately by test_django_admin_is_closed_to_every_role)",
    "media/": "user-uploaded files served by Django only when DEBUG is on",
    "static/": "static files (WhiteNoise in production, runserver in development)",
}


def expect(allowed: frozenset[str] | set[str], *, hidden: frozenset[str] | set[str] = frozenset(),
           anonymous: str | int = LOGIN, refused: int = 403) -> dict[str, str | int]:
    """Expected outcome per role: allowed → OK, hidden → 404, other roles → `refused`."""
    out: dict[str, str | int] = {}
    for role in ROLES:
        if role == ANON:
            out[role] = anonymous
        elif role in allowed:
            out[role] = OK
        elif role in hidden:
            out[role] = 404
        else:
            out[role] = refused
    return out


def everyone(outcome: str | int = OK) -> dict[str, str | int]:
    return dict.fromkeys(ROLES, outcome)


# --- Data every request may need ---------------------------------------------------------------


@dataclass
class Ctx:
    users: dict[str, Any]
    account: Any
    other_account: Any
    objects: dict[int, dict[str, Any]]  # account pk → its channel, conversation, ...
    announcement: Any
    agent_token: Any
    survey: Any
    extra: dict[str, Any]  # objects not tied to an account: a team, a webhook, ...
    target: Any = None  # the account the current request is about

    def of_target(self, name: str) -> Any:
        """An object (see the `ctx` fixture) belonging to the target account."""
        return self.objects[self.target.pk][name]


@dataclass(frozen=True)
class Route:
    expected: dict[str, str | int]
    method: str = "GET"
    kwargs: Callable[[Ctx], dict[str, Any]] | None = None
    data: Callable[[Ctx], dict[str, Any]] | None = None
    scoped: bool = False  # about one account: requested on both accounts
    query: Callable[[Ctx], dict[str, Any]] | None = None  # API GET parameters


def _pk(ctx: Ctx) -> dict[str, Any]:
    return {"pk": ctx.target.pk}


def _account_id(ctx: Ctx) -> dict[str, Any]:
    return {"account_id": ctx.target.pk}


def _conversation(ctx: Ctx) -> dict[str, Any]:
    return {"pk": ctx.of_target("conversation").pk}


def _call(ctx: Ctx) -> dict[str, Any]:
    """A call taken by hand for the target account (desk)."""
    return {"pk": ctx.of_target("call").pk}


def _request(ctx: Ctx) -> dict[str, Any]:
    """The client business's own request (espace client), not a contact's conversation."""
    return {"pk": ctx.of_target("request").pk}


ACCOUNT_VIEWERS = STAFF - {OTHER_AGENT}  # for `account`; OTHER_AGENT gets a 404
# Storefront quotes: who manages them (shop/permissions.can_manage_quotes).
QUOTE_MANAGERS = frozenset({SUPERVISOR, BILLING, ADMIN})


def _quote_sent(ctx: Ctx) -> dict[str, Any]:
    return {"pk": ctx.extra["quotes"][ctx.account.pk].pk}


def _quote_draft(ctx: Ctx) -> dict[str, Any]:
    return {"pk": ctx.extra["quote_draft"].pk}


def _quote_token(ctx: Ctx) -> dict[str, Any]:
    return {"token": ctx.extra["quotes"][ctx.account.pk].token}


# Reply, note, assign, qualify...: staff who answer (not billing), on visible accounts.
WORKERS = ACCOUNT_VIEWERS - {BILLING}

# --- The matrix: pages (key: URL name, with its namespace) -------------------------------------

MATRIX: dict[str, Route] = {
    # Public pages.
    "home": Route(everyone()),
    "status_public": Route(everyone()),
    "healthz": Route(everyone()),
    "favicon": Route(everyone()),
    # The live relay of the local processes: only signed pushes from loopback (an unsigned
    # request, even from 127.0.0.1 as here, is refused whoever is logged in).
    "live_relay": Route(everyone(403), method="POST"),
    "login": Route(everyone()),  # logged in: redirected to after_login
    # The login's code step (two-factor): without a pending login (a password step just
    # passed), back to the login page, whoever asks.
    "login_code": Route(dict.fromkeys(ROLES, LOGIN)),
    "logout": Route(everyone(), method="POST"),
    "password_reset": Route(everyone()),
    "password_reset_done": Route(everyone()),
    "password_reset_confirm": Route(everyone(), kwargs=lambda c: {"uidb64": "MQ",
                                                                   "token": "invalide"}),
    "password_reset_complete": Route(everyone()),
    "set_language": Route(everyone(), method="POST", data=lambda c: {"language": "fr"}),
    "after_login": Route(expect(AUTHENTICATED)),
    # Back office: any staff role.
    "dashboard": Route(expect(STAFF)),
    "shop": Route(expect(STAFF)),
    # Menus fit the role: no Facturation for télésecrétaires, no Agenda for billing staff.
    "reports": Route(expect(STAFF)),
    # Reports: any staff role, over the accounts they see (the figures are scoped).
    "reports_satisfaction": Route(expect(STAFF)),
    "reports_drill": Route(expect(STAFF)),
    # The live board and the objectives: supervisors and administrators.
    "reports_live": Route(expect(MANAGERS)),
    "reports_staffing": Route(expect(MANAGERS)),
    "reports_team": Route(expect(STAFF)),  # a secretary sees their own line only
    "reports_objectives": Route(expect(MANAGERS)),
    "reports_objective_delete": Route(expect(MANAGERS), method="POST",
                                      kwargs=lambda c: {"pk": c.extra["objective"].pk}),
    "reports_challenge_delete": Route(expect(MANAGERS), method="POST",
                                      kwargs=lambda c: {"pk": c.extra["challenge"].pk}),
    "reports_export_csv": Route(expect(STAFF)),
    "reports_export_xlsx": Route(expect(STAFF)),
    # Each user's own scheduled exports; stopping one is for its owner (the supervisor
    # here): another staff member gets a 404, as if it did not exist.
    "reports_scheduled_exports": Route(expect(STAFF)),
    "reports_scheduled_export_delete": Route(
        expect({SUPERVISOR}, hidden=STAFF - {SUPERVISOR}), method="POST",
        kwargs=lambda c: {"pk": c.extra["scheduled_export"].pk}),
    "settings": Route(expect(STAFF)),
    "accounts:list": Route(expect(STAFF)),
    "accounts:profile": Route(expect(STAFF)),
    "accounts:security": Route(expect(STAFF)),  # one's own two-factor authentication
    # Accounts: seeing one needs visibility, changing one needs admin/supervisor.
    "accounts:create": Route(expect(MANAGERS)),
    "accounts:detail": Route(expect(ACCOUNT_VIEWERS, hidden={OTHER_AGENT}),
                             kwargs=_pk, scoped=True),
    "account_calendar": Route(expect(ACCOUNT_VIEWERS, hidden={OTHER_AGENT}),
                              kwargs=_pk, scoped=True),
    "accounts:edit": Route(expect(MANAGERS, hidden={OTHER_AGENT}), kwargs=_pk, scoped=True),
    "accounts:agents": Route(expect(MANAGERS, hidden={OTHER_AGENT}), method="POST",
                             kwargs=_pk, scoped=True),
    "accounts:channel_add": Route(expect(MANAGERS, hidden={OTHER_AGENT}), method="POST",
                                  kwargs=_pk, data=lambda c: {"kind": "phone",
                                                              "value": "01 23 45 67 89"},
                                  scoped=True),
    "accounts:channel_remove": Route(expect(MANAGERS, hidden={OTHER_AGENT}), method="POST",
                                     kwargs=lambda c: {"pk": c.target.pk,
                                                       "channel_id": c.of_target("channel").pk},
                                     scoped=True),
    "accounts:client_user_add": Route(expect(MANAGERS, hidden={OTHER_AGENT}), method="POST",
                                      kwargs=_pk, data=lambda c: {"email": "nouveau@test.fr"},
                                      scoped=True),
    # Admin only.
    "accounts:staff": Route(expect({ADMIN})),
    "accounts:staff_create": Route(expect({ADMIN})),
    "accounts:staff_edit": Route(expect({ADMIN}),
                                 kwargs=lambda c: {"user_id": c.users[AGENT].pk}),
    "accounts:staff_two_factor_reset": Route(
        expect({ADMIN}), method="POST", kwargs=lambda c: {"user_id": c.users[AGENT].pk}),
    "accounts:operator": Route(expect({ADMIN})),
    "audit:list": Route(expect({ADMIN})),
    "privacy_registry": Route(expect({ADMIN})),
    # Read-only; agents see their assigned accounts' consents only (the list is scoped, the
    # page itself opens for them).
    "privacy_consents": Route(expect({ADMIN, SUPERVISOR, AGENT, OTHER_AGENT})),
    # Retention schedules and the breach register: administrators only.
    "privacy_retention": Route(expect({ADMIN})),
    "privacy_backups": Route(expect({ADMIN})),
    "privacy_retention_simulate": Route(expect({ADMIN}), method="POST"),
    "privacy_breaches": Route(expect({ADMIN})),
    "privacy_breach_new": Route(expect({ADMIN})),
    "privacy_breach": Route(expect({ADMIN}), kwargs=lambda c: {"pk": c.extra["breach"].pk}),
    # Data subjects' requests: administrators only.
    "privacy_requests": Route(expect({ADMIN})),
    "privacy_request_create": Route(expect({ADMIN})),
    "privacy_request_detail": Route(expect({ADMIN}), scoped=True,
                                    kwargs=lambda c: {"pk": c.of_target("subject_request").pk}),
    "privacy_request_action": Route(expect({ADMIN}), method="POST", scoped=True,
                                    kwargs=lambda c: {"pk": c.of_target("subject_request").pk},
                                    data=lambda c: {"action": "start"}),
    "privacy_export_download": Route(expect({ADMIN}), scoped=True,
                                     kwargs=lambda c: {"pk": c.of_target("subject_export").pk}),
    # Announcements: admin and supervisor.
    "announcements": Route(expect(MANAGERS)),
    # The incident log (issue 15): administrators and supervisors.
    "status_incidents": Route(expect(MANAGERS)),
    "status_incident_new": Route(expect(MANAGERS)),
    "status_incident": Route(expect(MANAGERS),
                             kwargs=lambda c: {"pk": c.extra["status_incident"].pk}),
    "status_incident_update": Route(expect(MANAGERS), method="POST",
                                    kwargs=lambda c: {"pk": c.extra["status_incident"].pk},
                                    data=lambda c: {"text": "Rétabli."}),
    "status_incident_delete": Route(expect(MANAGERS), method="POST",
                                    kwargs=lambda c: {"pk": c.extra["status_incident"].pk}),
    "announcement_delete": Route(expect(MANAGERS), method="POST",
                                 kwargs=lambda c: {"pk": c.announcement.pk}),
    # A token can only be revoked by its owner (here: `agent`); anyone else gets a 404.
    "accounts:token_revoke": Route(expect({AGENT}, hidden=AUTHENTICATED - {AGENT}),
                                   method="POST",
                                   kwargs=lambda c: {"token_id": c.agent_token.pk}),
    # Inbox: any staff role lists; conversations need visibility; working them excludes
    # billing.
    "inbox:list": Route(expect(STAFF)),
    "inbox:phone": Route(expect(STAFF - {BILLING})),  # recording a call: staff who answer
    # « Saisie manuelle »: a request received during an outage, for staff who answer.
    "inbox:manual": Route(expect(STAFF - {BILLING})),
    "inbox:complaints": Route(expect(STAFF)),
    "inbox:complaints_csv": Route(expect(STAFF)),
    "inbox:presence": Route(expect(STAFF), method="POST", data=lambda c: {"available": "1"}),
    "inbox:detail": Route(expect(ACCOUNT_VIEWERS, hidden={OTHER_AGENT}), kwargs=_conversation,
                          scoped=True),
    "inbox:timeline": Route(expect(ACCOUNT_VIEWERS, hidden={OTHER_AGENT}),
                            kwargs=_conversation, scoped=True),
    "inbox:attachment": Route(expect(ACCOUNT_VIEWERS, hidden={OTHER_AGENT}),
                              kwargs=lambda c: {"attachment_id": c.of_target("attachment").pk},
                              scoped=True),
    "inbox:reply": Route(expect(WORKERS, hidden={OTHER_AGENT}), method="POST",
                         kwargs=_conversation, data=lambda c: {"body": "Bonjour, c'est noté."},
                         scoped=True),
    "inbox:note": Route(expect(WORKERS, hidden={OTHER_AGENT}), method="POST",
                        kwargs=_conversation, data=lambda c: {"body": "Rappeler demain."},
                        scoped=True),
    "inbox:callback_done": Route(expect(WORKERS, hidden={OTHER_AGENT}), method="POST",
                                 kwargs=_conversation,
                                 data=lambda c: {"note": "Rappelé, RDV jeudi."}, scoped=True),
    "inbox:callback_plan": Route(expect(WORKERS, hidden={OTHER_AGENT}), method="POST",
                                 kwargs=_conversation,
                                 data=lambda c: {"at": "2099-01-05T10:00"}, scoped=True),
    "inbox:status": Route(expect(WORKERS, hidden={OTHER_AGENT}), method="POST",
                          kwargs=_conversation, data=lambda c: {"status": "ouvert"},
                          scoped=True),
    "inbox:assign": Route(expect(WORKERS, hidden={OTHER_AGENT}), method="POST",
                          kwargs=_conversation, data=lambda c: {"assignee": ""}, scoped=True),
    "inbox:qualify": Route(expect(WORKERS, hidden={OTHER_AGENT}), method="POST",
                           kwargs=_conversation, scoped=True),
    "inbox:merge": Route(expect(WORKERS, hidden={OTHER_AGENT}), method="POST",
                         kwargs=_conversation, data=lambda c: {
                             "target": c.of_target("complaint").reference}, scoped=True),
    "inbox:link_order": Route(expect(WORKERS, hidden={OTHER_AGENT}), method="POST",
                              kwargs=_conversation, data=lambda c: {
                                  "order": c.of_target("order").reference}, scoped=True),
    "inbox:split": Route(expect(WORKERS, hidden={OTHER_AGENT}), method="POST",
                         kwargs=lambda c: {"message_id": c.of_target("second_message").pk},
                         scoped=True),
    "inbox:complaint_step": Route(expect(WORKERS, hidden={OTHER_AGENT}), method="POST",
                                  kwargs=lambda c: {"pk": c.of_target("complaint").pk,
                                                    "step": "analyse"}, scoped=True),
    "inbox:bulk": Route(expect(WORKERS, hidden={OTHER_AGENT}), method="POST",
                        data=lambda c: {"action": "close",
                                        "ids": str(c.of_target("conversation").pk)},
                        scoped=True),
    "inbox:notifications": Route(expect(STAFF)),
    "inbox:unread": Route(expect(STAFF)),
    # Inbox settings (canned replies, routing, teams, SLA): admin and supervisor.
    "inbox:sla": Route(expect(MANAGERS)),
    "inbox:settings": Route(expect(MANAGERS), kwargs=lambda c: {"kind": "equipes"}),
    "inbox:setting_edit": Route(expect(MANAGERS),
                                kwargs=lambda c: {"kind": "equipes", "pk": c.extra["team"].pk}),
    "inbox:setting_delete": Route(expect(MANAGERS), method="POST", kwargs=lambda c: {
        "kind": "equipes", "pk": c.extra["team"].pk}),
    # Webhooks: admin only.
    "integrations:webhooks": Route(expect({ADMIN})),
    "integrations:webhook_detail": Route(expect({ADMIN}),
                                         kwargs=lambda c: {"pk": c.extra["webhook"].pk}),
    "integrations:webhook_delete": Route(expect({ADMIN}), method="POST",
                                         kwargs=lambda c: {"pk": c.extra["webhook"].pk}),
    "integrations:delivery_redeliver": Route(expect({ADMIN}), method="POST", kwargs=lambda c: {
        "delivery_id": c.extra["delivery"].pk}),
    # Public: contact forms (the operator's and each account's), satisfaction surveys.
    "channels_webform:operator": Route(everyone()),
    "channels_webform:account": Route(everyone(), kwargs=lambda c: {"slug": c.target.slug},
                                      scoped=True),
    "survey": Route(everyone(), kwargs=lambda c: {"token": c.survey.token}),
    # Espace client: client users only; switching needs membership of the account.
    "portal:home": Route(expect(CLIENTS)),
    "portal:profile": Route(expect(CLIENTS)),
    "portal:section": Route(expect(CLIENTS), kwargs=lambda c: {"name": "factures"}),
    "portal:requests": Route(expect(CLIENTS)),
    "portal:request_new": Route(expect(CLIENTS)),
    # A client's requests: only those of their own account (outsider: 404).
    "portal:request_detail": Route(expect({CLIENT}, hidden={OUTSIDER}), kwargs=_request,
                                   scoped=True),
    "portal:request_reply": Route(expect({CLIENT}, hidden={OUTSIDER}), method="POST",
                                  kwargs=_request, data=lambda c: {"body": "Merci !"},
                                  scoped=True),
    # Its activity (its contacts' conversations): read, and instructions left on them.
    "portal:activity": Route(expect(CLIENTS)),
    "portal:activity_detail": Route(expect({CLIENT}, hidden={OUTSIDER}), kwargs=_conversation,
                                    scoped=True),
    "portal:activity_instruction": Route(expect({CLIENT}, hidden={OUTSIDER}), method="POST",
                                         kwargs=_conversation,
                                         data=lambda c: {"body": "Ne pas rappeler."},
                                         scoped=True),
    "portal:request_attachment": Route(expect({CLIENT}, hidden={OUTSIDER}), kwargs=lambda c: {
        "attachment_id": c.of_target("attachment").pk}, scoped=True),
    "portal:switch": Route(expect({CLIENT}, hidden={OUTSIDER}), method="POST",
                           data=lambda c: {"account": c.target.pk}, scoped=True),
    # django-ninja's own pages: the schema and the docs are public; the root is a 404.
    "api:openapi-json": Route(everyone()),
    "api:openapi-view": Route(everyone()),
    "api:api-root": Route(everyone(404)),
    # --- Storefront: public site and catalog (site:*, site_admin:*) ---
    # The public site: everyone, logged in or not.
    "site:plans": Route(everyone()),
    # « Votre avis »: anyone, from any page; the improvement board: supervisors and
    # administrators (the world holds one opinion).
    "feedback:leave": Route(everyone()),
    "feedback:board": Route(expect({SUPERVISOR, ADMIN})),
    "feedback:detail": Route(expect({SUPERVISOR, ADMIN}),
                             kwargs=lambda c: {"pk": c.extra["feedback"].pk}),
    # Staff planning: supervisors and administrators edit it, a secretary reads her own week;
    # billing has none. The staff pulse is the secretaries' own (the world holds one shift).
    "planning:week": Route(expect({AGENT, OTHER_AGENT, SUPERVISOR, ADMIN})),
    "planning:shift_new": Route(expect(MANAGERS)),
    "planning:shift_edit": Route(expect(MANAGERS), kwargs=lambda c: {"pk": c.extra["shift"].pk}),
    "planning:shift_delete": Route(expect(MANAGERS), method="POST",
                                   kwargs=lambda c: {"pk": c.extra["shift"].pk}),
    "planning:week_copy": Route(expect(MANAGERS), method="POST",
                                data=lambda c: {"semaine": c.extra["shift"].day.isoformat()}),
    "planning:pulse": Route(expect({AGENT, OTHER_AGENT})),
    "site:plan": Route(everyone(), kwargs=lambda c: {"slug": c.extra["site_offer"].slug}),
    # --- Quality reviews: supervisors and administrators manage the grids and score any
    # call or conversation of the accounts they see; a secretary reads her own reviews (a
    # colleague's: 404) and only she acknowledges one (a supervisor: 403). ---
    "quality:list": Route(expect({AGENT, OTHER_AGENT, SUPERVISOR, ADMIN})),
    "quality:grids": Route(expect(MANAGERS)),
    "quality:grid": Route(expect(MANAGERS), kwargs=lambda c: {"pk": c.extra["quality_grid"].pk}),
    "quality:criterion_add": Route(expect(MANAGERS), method="POST",
                                   kwargs=lambda c: {"pk": c.extra["quality_grid"].pk},
                                   data=lambda c: {"label": "Clôture", "weight": "1",
                                                   "order": "5"}),
    "quality:criterion": Route(expect(MANAGERS), kwargs=lambda c: {
        "pk": c.extra["quality_grid"].pk, "criterion_pk": c.extra["quality_criterion"].pk}),
    "quality:criterion_delete": Route(expect(MANAGERS), method="POST", kwargs=lambda c: {
        "pk": c.extra["quality_grid"].pk, "criterion_pk": c.extra["quality_criterion"].pk}),
    "quality:review_call": Route(expect(MANAGERS), kwargs=_call, scoped=True),
    "quality:review_conversation": Route(expect(MANAGERS), kwargs=_conversation, scoped=True),
    "quality:review": Route(expect({AGENT, SUPERVISOR, ADMIN}, hidden={OTHER_AGENT}),
                            kwargs=lambda c: {"pk": c.of_target("quality_review").pk},
                            scoped=True),
    "quality:acknowledge": Route(expect({AGENT}, hidden={OTHER_AGENT}), method="POST",
                                 kwargs=lambda c: {"pk": c.of_target("quality_review").pk},
                                 data=lambda c: {"reply": "Merci"}, scoped=True),
    "site:plan_price": Route(everyone(), kwargs=lambda c: {"slug": c.extra["site_offer"].slug}),
    "site:sectors": Route(everyone()),
    "site:sector": Route(everyone(), kwargs=lambda c: {"sector": "medical"}),
    "site:service_client": Route(everyone()),
    "site:terms": Route(everyone()),
    "site:terms_version": Route(everyone(), kwargs=lambda c: {
        "version": c.extra["site_terms"].version}),
    "site:terms_pdf": Route(everyone(), kwargs=lambda c: {
        "version": c.extra["site_terms"].version}),
    "site:page": Route(everyone(), kwargs=lambda c: {"slug": c.extra["site_page"].slug}),
    # The site editor: administrators only.
    "site_admin:home": Route(expect({ADMIN})),
    "site_admin:offers": Route(expect({ADMIN})),
    "site_admin:offer_create": Route(expect({ADMIN})),
    "site_admin:offer_edit": Route(expect({ADMIN}), kwargs=lambda c: {
        "pk": c.extra["site_offer"].pk}),
    "site_admin:offer_publish": Route(expect({ADMIN}), method="POST", kwargs=lambda c: {
        "pk": c.extra["site_offer"].pk}, data=lambda c: {"published": "0"}),
    "site_admin:pages": Route(expect({ADMIN})),
    "site_admin:page_create": Route(expect({ADMIN})),
    "site_admin:page_edit": Route(expect({ADMIN}), kwargs=lambda c: {
        "pk": c.extra["site_page"].pk}),
    "site_admin:terms": Route(expect({ADMIN})),
    "site_admin:terms_create": Route(expect({ADMIN})),
    "site_admin:terms_edit": Route(expect({ADMIN}), kwargs=lambda c: {
        "pk": c.extra["site_terms_draft"].pk}),
    "site_admin:terms_publish": Route(expect({ADMIN}), method="POST", kwargs=lambda c: {
        "pk": c.extra["site_terms_draft"].pk}),
    # --- Storefront: cart, checkout, public quotes (shop:*) ---
    # Cart and checkout are public (a visitor's cart lives in their session; an empty cart
    # sends back to /panier/, staff are told online ordering is for clients). A cart line can
    # only be changed from its own cart (here: the client user's); anyone else gets a 404.
    "shop:cart": Route(everyone()),
    "shop:cart_add": Route(everyone(), method="POST",
                           data=lambda c: {"offer": c.extra["cart_line"].offer.slug}),
    "shop:cart_line_update": Route(
        expect({CLIENT}, hidden=AUTHENTICATED - {CLIENT}, anonymous=404), method="POST",
        kwargs=lambda c: {"line_id": c.extra["cart_line"].pk}, data=lambda c: {"quantity": "2"}),
    "shop:cart_line_remove": Route(
        expect({CLIENT}, hidden=AUTHENTICATED - {CLIENT}, anonymous=404), method="POST",
        kwargs=lambda c: {"line_id": c.extra["cart_line"].pk}),
    "shop:checkout": Route(everyone()),
    "shop:checkout_payment": Route(everyone()),  # without step 1: back to step 1 or the cart
    # The buyer's order pages: the buyer and members of the order's account; others 404.
    "shop:order_detail": Route(expect({CLIENT}, hidden=AUTHENTICATED - {CLIENT}),
                               kwargs=lambda c: {"reference": c.of_target("order").reference},
                               scoped=True),
    "shop:order_pay": Route(expect({CLIENT}, hidden=AUTHENTICATED - {CLIENT}), method="POST",
                            kwargs=lambda c: {"reference": c.of_target("order").reference},
                            data=lambda c: {"payment_method": "carte"}, scoped=True),
    "shop:order_thanks": Route(expect({CLIENT}, hidden=AUTHENTICATED - {CLIENT}),
                               kwargs=lambda c: {"reference": c.of_target("order").reference},
                               scoped=True),
    # --- Storefront: order board and order pages for staff (orders:*), espace client orders ---
    # The board: any staff role (agents see their accounts' orders only). An order page
    # needs visibility; processing it (check, information, validate/activate/cancel, contact
    # the client) is for admin and supervisor. /app/boutique/ ("shop") redirects to the board.
    "orders:board": Route(expect(STAFF)),
    "orders:detail": Route(expect(ACCOUNT_VIEWERS, hidden={OTHER_AGENT}),
                           kwargs=lambda c: {"pk": c.of_target("order").pk}, scoped=True),
    "orders:summary_pdf": Route(expect(ACCOUNT_VIEWERS, hidden={OTHER_AGENT}),
                                kwargs=lambda c: {"pk": c.of_target("order").pk}, scoped=True),
    "orders:check": Route(expect(MANAGERS, hidden={OTHER_AGENT}), method="POST",
                          kwargs=lambda c: {"pk": c.of_target("order").pk}, scoped=True),
    "orders:information": Route(expect(MANAGERS, hidden={OTHER_AGENT}), method="POST",
                                kwargs=lambda c: {"pk": c.of_target("order").pk},
                                data=lambda c: {"complete": "0"}, scoped=True),
    "orders:transition": Route(expect(MANAGERS, hidden={OTHER_AGENT}), method="POST",
                               kwargs=lambda c: {"pk": c.of_target("order").pk},
                               data=lambda c: {"to": "validee", "confirm": "1", "note": ""},
                               scoped=True),
    "orders:contact": Route(expect(MANAGERS, hidden={OTHER_AGENT}), method="POST",
                            kwargs=lambda c: {"pk": c.of_target("order").pk},
                            data=lambda c: {"subject": "Votre commande",
                                            "body": "Pouvez-vous nous envoyer vos consignes ?"},
                            scoped=True),
    # Espace client: the current account's orders; one order only if it is theirs.
    "portal:orders": Route(expect(CLIENTS)),
    "portal:consumption": Route(expect(CLIENTS)),  # the current account's subscriptions
    # Espace client: « Mon abonnement » of the current account (no account in the URL). The
    # world's orders are not activated: no subscription, the actions redirect with a message.
    "portal:subscription": Route(expect(CLIENTS)),
    "portal:subscription_change": Route(expect(CLIENTS)),
    "portal:subscription_option": Route(expect(CLIENTS)),
    "portal:subscription_cancel": Route(expect(CLIENTS)),
    "portal:subscription_withdraw": Route(expect(CLIENTS), method="POST"),
    # Facturation › Abonnements: billing staff, administrators and supervisors, every account.
    # The action resumes an active subscription: refused with a message, nothing changes.
    # Facturation › invoices: billing staff, administrators and supervisors read every
    # account's; billing staff and administrators issue (run, credit notes).
    "billing:home": Route(expect(QUOTE_MANAGERS)),
    "billing:run": Route(expect(QUOTE_MANAGERS)),
    "billing:invoice": Route(expect(QUOTE_MANAGERS), kwargs=lambda c: {
        "number": c.objects[c.account.pk]["invoice"].number}),
    "billing:invoice_pdf": Route(expect(QUOTE_MANAGERS), kwargs=lambda c: {
        "number": c.objects[c.account.pk]["invoice"].number}),
    "billing:credit_note_new": Route(
        {**expect({BILLING, ADMIN}), SUPERVISOR: 403}, method="POST",
        kwargs=lambda c: {"number": c.objects[c.account.pk]["invoice"].number},
        data=lambda c: {"reason": "Erreur de facturation"}),
    # A commercial gesture on the account's next invoice; the refund of a credit note (the
    # world's invoice is not a credit note: refused with a message, nothing changes).
    "billing:gesture_new": Route(
        {**expect({BILLING, ADMIN}), SUPERVISOR: 403}, method="POST",
        kwargs=lambda c: {"number": c.objects[c.account.pk]["invoice"].number},
        data=lambda c: {"geste-amount": "5", "geste-reason": "Geste"}),
    "billing:refund_new": Route(
        {**expect({BILLING, ADMIN}), SUPERVISOR: 403}, method="POST",
        kwargs=lambda c: {"number": c.objects[c.account.pk]["invoice"].number}),
    # Facturation › Exports comptables (journals, FEC; the current month by default): those
    # who see billing, every account.
    "billing:exports": Route(expect(QUOTE_MANAGERS)),
    "billing:export_sales": Route(expect(QUOTE_MANAGERS), kwargs=lambda c: {"fmt": "csv"}),
    "billing:export_payments": Route(expect(QUOTE_MANAGERS), kwargs=lambda c: {"fmt": "xlsx"}),
    "billing:export_fec": Route(expect(QUOTE_MANAGERS)),
    # Facturation › Plateforme agréée and E-reporting (einvoicing): billing's readers; only
    # billing staff and administrators retransmit (the world's invoices have no transmission:
    # refused with a message, nothing changes).
    "einvoicing:platform": Route(expect(QUOTE_MANAGERS)),
    "einvoicing:retransmit": Route(
        {**expect({BILLING, ADMIN}), SUPERVISOR: 403}, method="POST",
        kwargs=lambda c: {"number": c.objects[c.account.pk]["invoice"].number}),
    "einvoicing:ereporting": Route(expect(QUOTE_MANAGERS)),
    "einvoicing:ereporting_json": Route(expect(QUOTE_MANAGERS)),
    # Espace client → Factures: the client's current account only.
    "portal:invoices": Route(expect(CLIENTS)),
    "portal:invoice": Route(expect({CLIENT}, hidden={OUTSIDER}), scoped=True,
                            kwargs=lambda c: {"number": c.of_target("invoice").number}),
    "portal:invoice_pdf": Route(expect({CLIENT}, hidden={OUTSIDER}), scoped=True,
                                kwargs=lambda c: {"number": c.of_target("invoice").number}),
    # Facturation › Impayés (recovery, issue 12): billing staff, administrators and
    # supervisors read the board and an incident; billing staff and administrators act
    # (note, retry, close) and match a transfer on an invoice (the world's invoice is paid:
    # refused with a message, nothing changes). Espace client: pay one's own invoice.
    "recovery:board": Route(expect(QUOTE_MANAGERS)),
    "recovery:incident": Route(expect(QUOTE_MANAGERS),
                               kwargs=lambda c: {"pk": c.extra["incident"].pk}),
    "recovery:incident_action": Route(
        {**expect({BILLING, ADMIN}), SUPERVISOR: 403}, method="POST",
        kwargs=lambda c: {"pk": c.extra["incident"].pk, "action": "note"},
        data=lambda c: {"text": "Client appelé"}),
    "recovery:transfer_match": Route(
        {**expect({BILLING, ADMIN}), SUPERVISOR: 403}, method="POST",
        kwargs=lambda c: {"number": c.objects[c.account.pk]["invoice"].number},
        data=lambda c: {"amount": "1,00", "received_on": "2026-01-05", "bank_label": "VIR"}),
    "recovery:pay": Route(expect({CLIENT}, hidden={OUTSIDER}), scoped=True,
                          kwargs=lambda c: {"number": c.of_target("invoice").number}),
    # Facturation › Échéanciers: billing's readers follow them; billing staff and
    # administrators agree one (the world's invoice is paid: refused with a message) and
    # record an instalment's transfer.
    "billing:schedule_new": Route(
        {**expect({BILLING, ADMIN}), SUPERVISOR: 403}, method="POST",
        kwargs=lambda c: {"number": c.objects[c.account.pk]["invoice"].number},
        data=lambda c: {"echeancier-count": "2", "echeancier-first_due": "2030-01-01",
                        "echeancier-method": "virement"}),
    "billing:schedules": Route(expect(QUOTE_MANAGERS)),
    "billing:schedule": Route(expect(QUOTE_MANAGERS),
                              kwargs=lambda c: {"pk": c.extra["schedule"].pk}),
    "billing:schedule_action": Route(
        {**expect({BILLING, ADMIN}), SUPERVISOR: 403}, method="POST",
        kwargs=lambda c: {"pk": c.extra["schedule"].pk, "action": "debiter"},
        data=lambda c: {"echeance": c.extra["instalment"].pk}),
    "billing:subscriptions": Route(expect(QUOTE_MANAGERS)),
    "billing:subscription_action": Route(expect(QUOTE_MANAGERS), method="POST", kwargs=lambda c: {
        "pk": c.objects[c.account.pk]["subscription"].pk, "action": "reprendre"}),
    # Espace client: the set-up of the current account (the client validates the test calls).
    "portal:setup": Route(expect(CLIENTS)),
    "portal:setup_tick": Route(expect(CLIENTS), method="POST",
                               data=lambda c: {"code": "test_calls"}),
    # --- Desk: consignes. Staff who see the account read them (an agent not assigned: 404);
    # those who take calls edit them and confirm reading (billing: 403). The espace client
    # reads and edits the current account's own consignes (no account in the URL). ---
    "desk:consignes": Route(expect(STAFF)),
    "desk:consignes_detail": Route(expect(ACCOUNT_VIEWERS, hidden={OTHER_AGENT}),
                                   kwargs=lambda c: {"account_pk": c.target.pk}, scoped=True),
    "desk:consignes_history": Route(expect(ACCOUNT_VIEWERS, hidden={OTHER_AGENT}),
                                    kwargs=lambda c: {"account_pk": c.target.pk}, scoped=True),
    "desk:consignes_version": Route(expect(ACCOUNT_VIEWERS, hidden={OTHER_AGENT}),
                                    kwargs=lambda c: {"account_pk": c.target.pk, "number": 1},
                                    scoped=True),
    "desk:consignes_edit": Route(expect(WORKERS, hidden={OTHER_AGENT}),
                                 kwargs=lambda c: {"account_pk": c.target.pk}, scoped=True),
    "desk:consignes_read": Route(expect(WORKERS, hidden={OTHER_AGENT}), method="POST",
                                 kwargs=lambda c: {"account_pk": c.target.pk},
                                 data=lambda c: {"version": "1"}, scoped=True),
    "portal:consignes": Route(expect(CLIENTS)),
    "portal:consignes_edit": Route(expect(CLIENTS)),
    "portal:consignes_history": Route(expect(CLIENTS)),
    # --- Desk: recordings, heard through Permanence (staff of the account, its clients). ---
    "desk:call_recording": Route(
        {**expect(set(), hidden={OTHER_AGENT}), AGENT: 502,
         SUPERVISOR: 502, BILLING: 502, ADMIN: 502},
        kwargs=lambda c: {"pk": c.of_target("recorded_call").pk}, scoped=True),
    "portal:call_recording": Route(
        {**expect(set(), hidden={OUTSIDER}), CLIENT: 502},
        kwargs=lambda c: {"pk": c.of_target("recorded_call").pk}, scoped=True),
    # --- Desk: outbound campaigns. Staff who take calls (not billing) on their accounts;
    # creating, importing and changing the status for supervisors. With the manual dialer,
    # « composer » answers 409 (dial it yourself) to those allowed. ---
    "desk:campaigns": Route(expect(STAFF - {BILLING})),
    "desk:campaign": Route(expect({AGENT, SUPERVISOR, ADMIN}, hidden={OTHER_AGENT}),
                           kwargs=lambda c: {"pk": c.of_target("campaign").pk}, scoped=True),
    "desk:campaign_status": Route(expect(MANAGERS, hidden={OTHER_AGENT}), method="POST",
                                  kwargs=lambda c: {"pk": c.of_target("campaign").pk},
                                  data=lambda c: {"to": "en_pause"}, scoped=True),
    "desk:campaign_import": Route(
        expect(MANAGERS, hidden={OTHER_AGENT}), method="POST",
        kwargs=lambda c: {"pk": c.of_target("campaign").pk},
        data=lambda c: {"file": SimpleUploadedFile(
            "liste.csv", "Nom;Téléphone\nPaul;0698765432\n".encode())}, scoped=True),
    "desk:campaign_next": Route(expect({AGENT, SUPERVISOR, ADMIN}, hidden={OTHER_AGENT}),
                                method="POST",
                                kwargs=lambda c: {"pk": c.of_target("campaign").pk},
                                scoped=True),
    "desk:campaign_target": Route(expect({AGENT, SUPERVISOR, ADMIN}, hidden={OTHER_AGENT}),
                                  kwargs=lambda c: {"pk": c.of_target("campaign_target").pk},
                                  scoped=True),
    "desk:campaign_attempt": Route(expect({AGENT, SUPERVISOR, ADMIN}, hidden={OTHER_AGENT}),
                                   method="POST",
                                   kwargs=lambda c: {"pk": c.of_target("campaign_target").pk},
                                   data=lambda c: {"disposition": "absent"}, scoped=True),
    "desk:campaign_dial": Route(
        {**expect(set(), hidden={OTHER_AGENT}), AGENT: 409, SUPERVISOR: 409, ADMIN: 409},
        method="POST", kwargs=lambda c: {"pk": c.of_target("campaign_target").pk},
        scoped=True),
    # --- Desk: new client set-up. Staff of the account; ticking for those who take calls;
    # going live (with an override reason) for supervisors. ---
    "desk:setup_list": Route(expect(STAFF)),
    "desk:setup_detail": Route(expect(STAFF - {OTHER_AGENT}, hidden={OTHER_AGENT}),
                               kwargs=lambda c: {"account_pk": c.target.pk}, scoped=True),
    "desk:setup_tick": Route(expect(STAFF - {OTHER_AGENT, BILLING}, hidden={OTHER_AGENT}),
                             method="POST", kwargs=lambda c: {"account_pk": c.target.pk},
                             data=lambda c: {"code": "kickoff", "evidence": "lundi"},
                             scoped=True),
    # An agent may put a complete set-up in service; this one is not: 409, nothing changes.
    "desk:setup_live": Route({**expect(MANAGERS, hidden={OTHER_AGENT}), AGENT: 409},
                             method="POST",
                             kwargs=lambda c: {"account_pk": c.target.pk},
                             data=lambda c: {"override_reason": "Client pressé"}, scoped=True),
    # --- Desk: calls. Staff who take calls (not billing) on the accounts they see (an agent
    # not assigned to the account: 404); the public « J'ai pris connaissance » page of a
    # forwarded message (its token is the credential). Espace client « Appels et messages »:
    # the current account's calls; one call only if it is the client's. ---
    "desk:home": Route(expect(STAFF - {BILLING})),
    "desk:account_search": Route(expect(STAFF - {BILLING})),
    "desk:call_start": Route(expect(WORKERS, hidden={OTHER_AGENT}), method="POST",
                             data=lambda c: {"account": c.target.pk, "from_number": ""},
                             scoped=True),
    "desk:call": Route(expect(WORKERS, hidden={OTHER_AGENT}), kwargs=_call, scoped=True),
    "desk:call_forwards": Route(expect(WORKERS, hidden={OTHER_AGENT}), kwargs=_call,
                                scoped=True),
    "desk:call_save": Route(expect(WORKERS, hidden={OTHER_AGENT}), method="POST",
                            kwargs=_call, data=lambda c: {"message": "Rappeler",
                                                          "urgency": "normal"}, scoped=True),
    "desk:call_forward": Route(expect(WORKERS, hidden={OTHER_AGENT}), method="POST",
                               kwargs=_call, scoped=True),
    "desk:call_close": Route(expect(WORKERS, hidden={OTHER_AGENT}), method="POST",
                             kwargs=_call, scoped=True),
    "forward_read": Route(everyone(), kwargs=lambda c: {"token": c.of_target("forward").token},
                          scoped=True),
    "portal:calls": Route(expect(CLIENTS)),
    "portal:calls_csv": Route(expect(CLIENTS)),
    # Each client turns the digest of the account they see on or off: their own only.
    "portal:calls_digest": Route(expect(CLIENTS), method="POST", data=lambda c: {"on": "1"}),
    "portal:call_detail": Route(expect({CLIENT}, hidden={OUTSIDER}), kwargs=_call,
                                scoped=True),
    "portal:call_handled": Route(expect({CLIENT}, hidden={OUTSIDER}), method="POST",
                                 kwargs=_call, scoped=True),
    # --- Desk: call backs (staff who take calls, on the accounts they see), the agents'
    # board and the call simulator (supervisors; the simulator in telephony test mode), each
    # one's own state switcher (staff who take calls). ---
    "desk:callbacks": Route(expect(STAFF - {BILLING})),
    "desk:callback_done": Route(expect(WORKERS, hidden={OTHER_AGENT}), method="POST",
                                kwargs=lambda c: {"pk": c.of_target("callback").pk},
                                scoped=True),
    "desk:callback_cancel": Route(expect(WORKERS, hidden={OTHER_AGENT}), method="POST",
                                  kwargs=lambda c: {"pk": c.of_target("callback").pk},
                                  scoped=True),
    "desk:agents": Route(expect(MANAGERS)),
    "desk:agent_state": Route(expect(STAFF - {BILLING}), method="POST",
                              data=lambda c: {"status": "en_pause"}),
    "desk:simulate": Route(expect(MANAGERS), method="POST",
                           data=lambda c: {"to": "+33145000099", "from_number": "0612345678",
                                           "abandon": "on"}),
    # --- SMS: the opt-outs (STOP), staff each on the accounts they see (an agent's list holds
    # only its assigned accounts' numbers: channels_sms/tests/test_opt_outs.py). ---
    "sms:opt_outs": Route(expect(STAFF - {BILLING})),
    "portal:quotes": Route(expect(CLIENTS)),  # the current account's quotes only
    "portal:order_detail": Route(expect({CLIENT}, hidden={OUTSIDER}), kwargs=lambda c: {
        "reference": c.of_target("order").reference}, scoped=True),
    "portal:order_pdf": Route(expect({CLIENT}, hidden={OUTSIDER}), kwargs=lambda c: {
        "reference": c.of_target("order").reference}, scoped=True),
    # --- Storefront: quotes for staff (quotes:*) and the public quote pages (quote_public:*) ---
    # Staff pages: administrators, supervisors and billing (can_manage_quotes); agents and
    # clients 403. Public pages: anyone holding the quote's link (its token), no login.
    "quotes:list": Route(expect(QUOTE_MANAGERS)),
    "quotes:create": Route(expect(QUOTE_MANAGERS)),
    "quotes:detail": Route(expect(QUOTE_MANAGERS), kwargs=_quote_draft),
    "quotes:pdf": Route(expect(QUOTE_MANAGERS), kwargs=_quote_sent),
    "quotes:send": Route(expect(QUOTE_MANAGERS), method="POST", kwargs=_quote_draft),
    "quotes:cancel": Route(expect(QUOTE_MANAGERS), method="POST", kwargs=_quote_sent),
    "quotes:reopen": Route(expect(QUOTE_MANAGERS), method="POST", kwargs=_quote_sent),
    "quotes:duplicate": Route(expect(QUOTE_MANAGERS), method="POST", kwargs=_quote_sent),
    "quotes:link_account": Route(expect(QUOTE_MANAGERS), method="POST", kwargs=_quote_draft,
                                 data=lambda c: {"account": c.target.pk}),
    "quote_public:request": Route(everyone()),
    "quote_public:detail": Route(everyone(), kwargs=_quote_token),
    "quote_public:pdf": Route(everyone(), kwargs=_quote_token),
    "quote_public:accept": Route(everyone(), method="POST", kwargs=_quote_token,
                                 data=lambda c: {"accept_terms": "on",
                                                 "billing_address": "1 rue de la Paix"}),
    "quote_public:decline": Route(everyone(), method="POST", kwargs=_quote_token,
                                  data=lambda c: {"reason": "Trop cher"}),
    # --- Agenda: the public booking page and the contact's link (agenda_public:*), no login.
    # The world's accounts have not switched online booking on: 404 for everybody. The
    # manage link is anyone's who holds the appointment's token.
    "agenda_public:booking": Route(everyone(404), kwargs=lambda c: {"slug": c.account.slug}),
    "agenda_public:booking_slots": Route(everyone(404),
                                         kwargs=lambda c: {"slug": c.account.slug}),
    "agenda_public:manage": Route(everyone(), kwargs=lambda c: {
        "token": c.objects[c.account.pk]["appointment"].token}),
    "agenda_public:ics": Route(everyone(), kwargs=lambda c: {
        "token": c.objects[c.account.pk]["agenda_resource"].ics_token}),
    # --- Agenda: the secretaries' pages (agenda:*). Staff who answer (not billing), on the
    # accounts they see; set-up changes by supervisors and administrators.
    "agenda:home": Route(expect(STAFF - {BILLING})),
    "agenda:book": Route(expect(STAFF - {BILLING})),
    "agenda:slots": Route(expect(STAFF - {BILLING})),
    "agenda:setup": Route(expect(STAFF - {BILLING})),
    "agenda:appointment": Route(expect(WORKERS, hidden={OTHER_AGENT}), scoped=True,
                                kwargs=lambda c: {"pk": c.of_target("appointment").pk}),
    # Moved to the time it already has (a real move for whoever may).
    "agenda:move": Route(expect(WORKERS, hidden={OTHER_AGENT}), method="POST", scoped=True,
                         kwargs=lambda c: {"pk": c.of_target("appointment").pk},
                         data=lambda c: {"slot": "{}|{}".format(
                             c.of_target("agenda_resource").pk,
                             c.of_target("appointment").start.isoformat())}),
    "agenda:cancel": Route(expect(WORKERS, hidden={OTHER_AGENT}), method="POST", scoped=True,
                           kwargs=lambda c: {"pk": c.of_target("appointment").pk},
                           data=lambda c: {"reason": "Empêché"}),
    "agenda:mark": Route(expect(WORKERS, hidden={OTHER_AGENT}), method="POST", scoped=True,
                         kwargs=lambda c: {"pk": c.of_target("appointment").pk},
                         data=lambda c: {"status": "honoured"}),
    "agenda:call_slots": Route(expect(WORKERS, hidden={OTHER_AGENT}), scoped=True,
                               kwargs=lambda c: {"call_id": c.of_target("call").pk}),
    "agenda:call_book": Route(expect(WORKERS, hidden={OTHER_AGENT}), method="POST",
                              scoped=True,
                              kwargs=lambda c: {"call_id": c.of_target("call").pk},
                              data=lambda c: {"type": c.of_target("agenda_type").pk,
                                              "slot": "{}|2030-01-08T10:00:00+01:00".format(
                                                  c.of_target("agenda_resource").pk),
                                              "contact_name": "Paul Durand"}),
    "agenda:account_setup": Route(expect(WORKERS, hidden={OTHER_AGENT}), scoped=True,
                                  kwargs=_account_id),
    "agenda:resource": Route(expect(WORKERS, hidden={OTHER_AGENT}), scoped=True,
                             kwargs=lambda c: {"pk": c.of_target("agenda_resource").pk}),
    "agenda:exception_add": Route(
        expect(WORKERS, hidden={OTHER_AGENT}), method="POST", scoped=True,
        kwargs=lambda c: {"pk": c.of_target("agenda_resource").pk},
        data=lambda c: {"kind": "closed", "start": "2030-02-04T09:00",
                        "end": "2030-02-04T12:00", "note": "Formation"}),
    "agenda:exception_remove": Route(
        expect(WORKERS, hidden={OTHER_AGENT}), method="POST", scoped=True,
        kwargs=lambda c: {"pk": c.of_target("agenda_absence").pk}),
    # The ICS secret and the sync: supervisors and administrators only.
    "agenda:ics_revoke": Route(expect(MANAGERS, hidden={OTHER_AGENT}), method="POST",
                               scoped=True,
                               kwargs=lambda c: {"pk": c.of_target("agenda_resource").pk}),
    "agenda:sync_now": Route(expect(MANAGERS), method="POST",
                             scoped=True,
                             kwargs=lambda c: {"pk": c.of_target("agenda_resource").pk}),
    # --- Espace client → Agenda (portal:agenda*): the client's current account only; the
    # other account's titulaire finds nothing (404), or its own resources only (422).
    "portal:agenda": Route(expect(CLIENTS)),
    "portal:agenda_book": Route(expect(CLIENTS)),
    "portal:agenda_block": Route(
        {**expect({CLIENT}), OUTSIDER: 422}, method="POST", scoped=True,
        data=lambda c: {"ressource_bloc": c.of_target("agenda_resource").pk, "kind": "closed",
                        "start": "2030-02-05T14:00", "end": "2030-02-05T18:00"}),
    "portal:agenda_appointment": Route(
        expect({CLIENT}, hidden={OUTSIDER}), scoped=True,
        kwargs=lambda c: {"pk": c.of_target("appointment").pk}),
    "portal:agenda_move": Route(
        expect({CLIENT}, hidden={OUTSIDER}), method="POST", scoped=True,
        kwargs=lambda c: {"pk": c.of_target("appointment").pk},
        data=lambda c: {"slot": "{}|{}".format(c.of_target("agenda_resource").pk,
                                               c.of_target("appointment").start.isoformat())}),
    "portal:agenda_cancel": Route(
        expect({CLIENT}, hidden={OUTSIDER}), method="POST", scoped=True,
        kwargs=lambda c: {"pk": c.of_target("appointment").pk}),
    # --- Storefront: payments for billing staff (payments:*) ---
    # Billing staff and admins act; supervisors read (list, detail, event log).
    "payments:list": Route(expect({BILLING, ADMIN, SUPERVISOR})),
    "payments:detail": Route(expect({BILLING, ADMIN, SUPERVISOR}),
                             kwargs=lambda c: {"pk": c.extra["payment"].pk}),
    "payments:refund": Route(expect({BILLING, ADMIN}), method="POST",
                             kwargs=lambda c: {"pk": c.extra["payment"].pk}),
    "payments:transfer_match": Route(expect({BILLING, ADMIN})),
    "payments:events": Route(expect({BILLING, ADMIN, SUPERVISOR})),
    "payments:event_retry": Route(expect({BILLING, ADMIN}), method="POST",
                                  kwargs=lambda c: {"pk": c.extra["provider_event"].pk}),
    # --- Knowledge base (issue 13). Staff pages: any staff role reads (billing too), the
    # staff who answer write the articles of the accounts they see; clients 403. Public pages
    # (FAQ, help pages, vote): anybody, published public articles only.
    "knowledge:list": Route(expect(STAFF)),
    "knowledge:create": Route(expect(STAFF - {BILLING})),
    "knowledge:suggestions": Route(expect(STAFF)),
    "knowledge:detail": Route(expect(ACCOUNT_VIEWERS, hidden={OTHER_AGENT}), scoped=True,
                              kwargs=lambda c: {"pk": c.of_target("knowledge_internal").pk}),
    "knowledge:edit": Route(expect(WORKERS, hidden={OTHER_AGENT}), scoped=True,
                            kwargs=lambda c: {"pk": c.of_target("knowledge_internal").pk}),
    "knowledge:status": Route(expect(WORKERS, hidden={OTHER_AGENT}), method="POST", scoped=True,
                              kwargs=lambda c: {"pk": c.of_target("knowledge_internal").pk},
                              data=lambda c: {"to": "draft"}),
    "knowledge:review": Route(expect(WORKERS, hidden={OTHER_AGENT}), method="POST", scoped=True,
                              kwargs=lambda c: {"pk": c.of_target("knowledge_internal").pk}),
    "knowledge_public:faq": Route(everyone()),
    "knowledge_public:faq_article": Route(everyone(), kwargs=lambda c: {
        "pk": c.extra["knowledge_global"].pk}),
    "knowledge_public:help": Route(everyone(), kwargs=lambda c: {"slug": c.target.slug},
                                   scoped=True),
    "knowledge_public:help_article": Route(everyone(), scoped=True, kwargs=lambda c: {
        "slug": c.target.slug, "pk": c.of_target("knowledge_public").pk}),
    "knowledge_public:vote": Route(everyone(), method="POST", kwargs=lambda c: {
        "pk": c.objects[c.account.pk]["knowledge_public"].pk}, data=lambda c: {"helpful": "oui"}),
    # Espace client › Aide: the client's current account's public articles (the other
    # account's titulaire: 404); staff 403.
    "knowledge_portal:list": Route(expect(CLIENTS)),
    # Espace client › Rapports: the client's own account (the session's), never another's.
    "reports_client": Route(expect(CLIENTS)),
    # Espace client › Confidentialité: the views of the client's own current account.
    "privacy_client_accesses": Route(expect(CLIENTS)),
    # Espace client › Mes données: the current account's exports; a download of another
    # account's export is a 404.
    "privacy_client_exports": Route(expect(CLIENTS)),
    "privacy_client_export_download": Route(
        expect({CLIENT}, hidden={OUTSIDER}), scoped=True,
        kwargs=lambda c: {"pk": c.of_target("subject_export").pk}),
    "reports_client_pdf": Route(expect(CLIENTS, refused=403), kwargs=lambda c: {
        "year": 2026, "month": 10}),
    "knowledge_portal:create": Route(expect(CLIENTS)),
    "knowledge_portal:edit": Route(expect({CLIENT}, hidden={OUTSIDER}), scoped=True,
                                   kwargs=lambda c: {"pk": c.of_target("knowledge_public").pk}),
    "knowledge_portal:status": Route(expect({CLIENT}, hidden={OUTSIDER}), method="POST",
                                     scoped=True, data=lambda c: {"to": "draft"},
                                     kwargs=lambda c: {"pk": c.of_target("knowledge_public").pk}),
    # Live chat: the console (a waiting chat of the account), then the visitor's side, public
    # (a chat token names the chat; the test client sends no Origin and no JSON: 400).
    "livechat:console": Route(expect(STAFF)),
    "livechat:accept": Route(expect(WORKERS, hidden={OTHER_AGENT, BILLING}), method="POST",
                             scoped=True, kwargs=lambda c: {"pk": c.of_target("chat").pk}),
    "livechat:reply": Route(expect(WORKERS, hidden={OTHER_AGENT, BILLING}), method="POST",
                            scoped=True, kwargs=lambda c: {"pk": c.of_target("chat").pk},
                            data=lambda c: {"body": "Bonjour"}),
    "livechat:transfer": Route(expect(WORKERS, hidden={OTHER_AGENT, BILLING}), method="POST",
                               scoped=True, kwargs=lambda c: {"pk": c.of_target("chat").pk}),
    "livechat:end": Route(expect(WORKERS, hidden={OTHER_AGENT, BILLING}), method="POST",
                          scoped=True, kwargs=lambda c: {"pk": c.of_target("chat").pk}),
    "livechat:settings": Route(expect(MANAGERS), scoped=True, kwargs=_account_id),
    "livechat:widget": Route(everyone(), kwargs=lambda c: {"slug": c.account.slug}),
    "livechat:demo_site": Route(everyone(), kwargs=lambda c: {"slug": c.account.slug}),
    "livechat:start": Route(everyone(400), method="POST",
                            kwargs=lambda c: {"slug": c.account.slug}),
    "livechat:messages": Route(everyone(), kwargs=lambda c: {
        "token": c.objects[c.account.pk]["chat_token"]}),
    "livechat:actions": Route(everyone(400), method="POST", kwargs=lambda c: {
        "token": c.objects[c.account.pk]["chat_token"]}),
    "livechat:attachments": Route(everyone(), method="POST", kwargs=lambda c: {
        "token": c.objects[c.account.pk]["chat_token"]}),
}

# --- The matrix: API operations (key: "METHOD /api/v1/path") -----------------------------------

API_PREFIX = "/api/v1"
API_VISIBLE = {CLIENT, AGENT, SUPERVISOR, BILLING, ADMIN}
API_HIDDEN = {OUTSIDER, OTHER_AGENT}
API_WORKERS = {AGENT, SUPERVISOR, ADMIN}


def _conversation_id(ctx: Ctx) -> dict[str, Any]:
    return {"conversation_id": ctx.of_target("conversation").pk}


def _calendar_body(ctx: Ctx) -> dict[str, Any]:
    office = [["09:00", "12:00"], ["14:00", "17:00"]]
    return {"timezone": "Europe/Paris", "holidays": "FR", "closures": [],
            "weekly": {d: office if d not in ("sat", "sun") else []
                       for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}}


# Agenda (agenda/permissions.py): who books (staff who answer, the account's clients) and
# who sets resources and types up (managers, the account's clients).
AGENDA_USERS = {CLIENT, AGENT, SUPERVISOR, ADMIN}
AGENDA_SETUP = {CLIENT, SUPERVISOR, ADMIN}


def _agenda_resource(ctx: Ctx) -> dict[str, Any]:
    return {"resource_id": ctx.of_target("agenda_resource").pk}


def _appointment(ctx: Ctx) -> dict[str, Any]:
    return {"appointment_id": ctx.of_target("appointment").pk}


API_MATRIX: dict[str, Route] = {
    # Desk: consignes. Read by whoever sees the account (clients: their own); written by
    # staff who answer and the account's clients; reading confirmed by staff who answer.
    "GET /api/v1/accounts/{account_id}/consignes": Route(
        expect(API_VISIBLE, hidden=API_HIDDEN, anonymous=401), kwargs=_account_id, scoped=True),
    "PUT /api/v1/accounts/{account_id}/consignes": Route(
        expect({CLIENT, *API_WORKERS}, hidden=API_HIDDEN, anonymous=401), method="PUT",
        kwargs=_account_id, data=lambda c: {"content": {"notes": "Par l'API"}}, scoped=True),
    "GET /api/v1/accounts/{account_id}/consignes/versions": Route(
        expect(API_VISIBLE, hidden=API_HIDDEN, anonymous=401), kwargs=_account_id, scoped=True),
    "POST /api/v1/accounts/{account_id}/consignes/read": Route(
        expect(API_WORKERS, hidden=API_HIDDEN, anonymous=401), method="POST",
        kwargs=_account_id, data=lambda c: {"version": 1}, scoped=True),
    "GET /api/v1/me": Route(expect(AUTHENTICATED, anonymous=401)),
    "GET /api/v1/accounts": Route(expect(AUTHENTICATED, anonymous=401)),
    "POST /api/v1/accounts": Route(expect(MANAGERS, anonymous=401), method="POST",
                                   data=lambda c: {"name": "Nouveau compte"}),
    "GET /api/v1/accounts/{account_id}": Route(
        expect(API_VISIBLE, hidden=API_HIDDEN, anonymous=401), kwargs=_account_id, scoped=True),
    "PATCH /api/v1/accounts/{account_id}": Route(
        expect(MANAGERS, hidden=API_HIDDEN, anonymous=401), method="PATCH",
        kwargs=_account_id, data=lambda c: {"notes": "modifié", "status": "suspendu"},
        scoped=True),
    "GET /api/v1/accounts/{account_id}/calendar": Route(
        expect(API_VISIBLE, hidden=API_HIDDEN, anonymous=401), kwargs=_account_id, scoped=True),
    "PUT /api/v1/accounts/{account_id}/calendar": Route(
        expect(MANAGERS, hidden=API_HIDDEN, anonymous=401), method="PUT", kwargs=_account_id,
        data=_calendar_body, scoped=True),
    "POST /api/v1/calendar/add-business-time": Route(
        expect(API_VISIBLE, hidden=API_HIDDEN, anonymous=401), method="POST",
        data=lambda c: {"account": c.target.pk, "start": "2026-11-20T17:00:00+01:00",
                        "hours": 2}, scoped=True),
    "POST /api/v1/calendar/business-time-between": Route(
        expect(API_VISIBLE, hidden=API_HIDDEN, anonymous=401), method="POST",
        data=lambda c: {"account": c.target.pk, "start": "2026-11-20T09:00:00+01:00",
                        "end": "2026-11-20T11:00:00+01:00"}, scoped=True),
    # Conversations: reading needs visibility (clients: their accounts' conversations);
    # creating and working them is for staff who answer (not billing, not clients).
    "GET /api/v1/conversations": Route(expect(AUTHENTICATED, anonymous=401)),
    "POST /api/v1/conversations": Route(  # clients are refused whatever the account
        expect(API_WORKERS, hidden={OTHER_AGENT}, anonymous=401), method="POST",
        data=lambda c: {"account": c.target.pk, "subject": "Rappel", "body": "Merci de rappeler",
                        "acknowledge": False}, scoped=True),
    "GET /api/v1/conversations/{conversation_id}": Route(
        expect(API_VISIBLE, hidden=API_HIDDEN, anonymous=401), kwargs=_conversation_id,
        scoped=True),
    "PATCH /api/v1/conversations/{conversation_id}": Route(
        expect(API_WORKERS, hidden=API_HIDDEN, anonymous=401), method="PATCH",
        kwargs=_conversation_id, data=lambda c: {"priority": "haute"}, scoped=True),
    "POST /api/v1/conversations/{conversation_id}/messages": Route(
        expect(API_WORKERS, hidden=API_HIDDEN, anonymous=401), method="POST",
        kwargs=_conversation_id, data=lambda c: {"type": "note", "body": "À rappeler"},
        scoped=True),
    "POST /api/v1/conversations/{conversation_id}/merge": Route(
        expect(API_WORKERS, hidden=API_HIDDEN, anonymous=401), method="POST",
        kwargs=_conversation_id, data=lambda c: {"into": c.of_target("complaint").pk,
                                                 "inform_customer": False}, scoped=True),
    # --- Storefront API: catalog ---
    # The published catalog is public (no token needed).
    "GET /api/v1/catalog/plans": Route(everyone()),
    "GET /api/v1/catalog/plans/{slug}": Route(everyone(), kwargs=lambda c: {
        "slug": c.extra["site_offer"].slug}),
    # --- Storefront API: orders and quotes ---
    # Orders: reading needs visibility (clients: their accounts' orders); transitions are
    # for admin and supervisor (others who see the order: 403).
    "GET /api/v1/orders": Route(expect(AUTHENTICATED, anonymous=401)),
    "GET /api/v1/orders/{order_id}": Route(
        expect(API_VISIBLE, hidden=API_HIDDEN, anonymous=401),
        kwargs=lambda c: {"order_id": c.of_target("order").pk}, scoped=True),
    "POST /api/v1/orders/{order_id}/transition": Route(
        expect(MANAGERS, hidden=API_HIDDEN, anonymous=401), method="POST",
        kwargs=lambda c: {"order_id": c.of_target("order").pk},
        data=lambda c: {"to": "validee", "note": "Informations vérifiées"}, scoped=True),
    # quotes: managers (admin, supervisor, billing) see and create all; clients read their
    # accounts' quotes (another account's: 404); agents 403.
    "GET /api/v1/quotes": Route(expect(QUOTE_MANAGERS | CLIENTS, anonymous=401)),
    "GET /api/v1/quotes/{quote_id}": Route(
        expect(QUOTE_MANAGERS | {CLIENT}, hidden={OUTSIDER}, anonymous=401),
        kwargs=lambda c: {"quote_id": c.extra["quotes"][c.target.pk].pk}, scoped=True),
    "POST /api/v1/quotes": Route(
        expect(QUOTE_MANAGERS, anonymous=401), method="POST",
        data=lambda c: {"requester_name": "Prospect", "requester_email": "p@exemple.fr",
                        "lines": [{"label": "Forfait", "unit_price_cents": 14900}]}),
    # --- Storefront API: payments (webhook) ---
    # Public (Stripe calls it), but only a valid Stripe-Signature gets in: without one,
    # every caller gets a 400 and nothing is stored.
    "POST /api/v1/payments/stripe/webhook": Route(
        everyone(400), method="POST",
        data=lambda c: {"id": "evt_authz", "type": "checkout.session.completed",
                        "data": {"object": {"id": "cs_authz"}}}),
    # --- Desk: telephony webhooks (public, but only a valid X-Permanence-Signature /
    # X-Twilio-Signature gets in: 401 and nothing stored), calls (visible accounts), one's
    # own agent state (staff who take calls). ---
    "POST /api/v1/telephony/events": Route(
        everyone(401), method="POST",
        data=lambda c: {"event_id": "e1", "event": "ringing", "call_id": "authz",
                        "occurred_at": "2026-11-23T09:00:00+01:00", "to": "+33145000004"}),
    "POST /api/v1/telephony/twilio/voice": Route(
        everyone(401), method="POST",
        data=lambda c: {"CallSid": "CAauthz", "CallStatus": "ringing"}),
    "GET /api/v1/calls": Route(expect(AUTHENTICATED, anonymous=401)),
    "POST /api/v1/agents/state": Route(
        expect({AGENT, OTHER_AGENT, SUPERVISOR, ADMIN}, anonymous=401), method="POST",
        data=lambda c: {"status": "en_pause"}),
    # --- SMS webhooks (channels_sms) ---
    # Public (the providers call them), but only a valid X-Twilio-Signature / the Brevo
    # webhook token gets in: without one, every caller gets a 403 and nothing is stored.
    "POST /api/v1/sms/twilio/status": Route(
        everyone(403), method="POST",
        data=lambda c: {"MessageSid": "SMauthz", "MessageStatus": "delivered"}),
    "POST /api/v1/sms/twilio/inbound": Route(
        everyone(403), method="POST",
        data=lambda c: {"MessageSid": "SMauthz", "From": "+33612345678",
                        "To": "+33180000001", "Body": "STOP"}),
    "POST /api/v1/sms/brevo/events": Route(
        everyone(403), method="POST",
        data=lambda c: {"messageId": 1, "msg_status": "delivered"}),
    # --- Agenda: resources, appointment types, slots, appointments. Read by whoever has an
    # agenda on a visible account (billing staff: 403 everywhere); resources and types are
    # set up by managers and the account's clients, appointments booked by staff who answer
    # and clients. Lists are filtered (outsiders see nothing of the other account). ---
    "GET /api/v1/agenda/resources": Route(expect(AUTHENTICATED - {BILLING}, anonymous=401)),
    "POST /api/v1/agenda/resources": Route(
        expect(AGENDA_SETUP, hidden=API_HIDDEN, anonymous=401), method="POST",
        data=lambda c: {"account": c.target.pk, "name": "Dr Nouveau"}, scoped=True),
    "GET /api/v1/agenda/resources/{resource_id}": Route(
        expect(AGENDA_USERS, hidden=API_HIDDEN, anonymous=401), kwargs=_agenda_resource,
        scoped=True),
    "PATCH /api/v1/agenda/resources/{resource_id}": Route(
        expect(AGENDA_SETUP, hidden=API_HIDDEN, anonymous=401), method="PATCH",
        kwargs=_agenda_resource, data=lambda c: {"name": "Dr Renommé"}, scoped=True),
    # Without a CalDAV calendar configured, those allowed get a 422 (nothing to sync).
    "POST /api/v1/agenda/resources/{resource_id}/sync": Route(
        expect(AGENDA_SETUP, hidden=API_HIDDEN, anonymous=401), method="POST",
        kwargs=_agenda_resource, scoped=True),
    "GET /api/v1/agenda/appointment-types": Route(
        expect(AUTHENTICATED - {BILLING}, anonymous=401)),
    "POST /api/v1/agenda/appointment-types": Route(
        expect(AGENDA_SETUP, hidden=API_HIDDEN, anonymous=401), method="POST",
        data=lambda c: {"account": c.target.pk, "name": "Bilan",
                        "resource": c.of_target("agenda_resource").pk}, scoped=True),
    "GET /api/v1/agenda/appointment-types/{type_id}": Route(
        expect(AGENDA_USERS, hidden=API_HIDDEN, anonymous=401),
        kwargs=lambda c: {"type_id": c.of_target("agenda_type").pk}, scoped=True),
    "PATCH /api/v1/agenda/appointment-types/{type_id}": Route(
        expect(AGENDA_SETUP, hidden=API_HIDDEN, anonymous=401), method="PATCH",
        kwargs=lambda c: {"type_id": c.of_target("agenda_type").pk},
        data=lambda c: {"duration_minutes": 45}, scoped=True),
    "GET /api/v1/agenda/slots": Route(
        expect(AGENDA_USERS, hidden=API_HIDDEN, anonymous=401), scoped=True,
        query=lambda c: {"type": c.of_target("agenda_type").pk,
                         "from": "2030-01-07T00:00:00+01:00",
                         "to": "2030-01-08T00:00:00+01:00"}),
    "GET /api/v1/agenda/appointments": Route(expect(AUTHENTICATED - {BILLING}, anonymous=401)),
    "POST /api/v1/agenda/appointments": Route(
        expect(AGENDA_USERS, hidden=API_HIDDEN, anonymous=401), method="POST",
        data=lambda c: {"type": c.of_target("agenda_type").pk,
                        "start": "2030-01-07T10:00:00+01:00", "contact": {"name": "Jeanne"}},
        scoped=True),
    "GET /api/v1/agenda/appointments/{appointment_id}": Route(
        expect(AGENDA_USERS, hidden=API_HIDDEN, anonymous=401), kwargs=_appointment,
        scoped=True),
    "PATCH /api/v1/agenda/appointments/{appointment_id}": Route(
        expect(AGENDA_USERS, hidden=API_HIDDEN, anonymous=401), method="PATCH",
        kwargs=_appointment, data=lambda c: {"status": "cancelled", "reason": "Empêché"},
        scoped=True),
    # --- Billing: usage (issue 12). Recorded by billing staff, administrators and supervisors
    # (agents and clients who see the account: 403); totals read by whoever sees the account.
    "POST /api/v1/usage": Route(
        expect({SUPERVISOR, BILLING, ADMIN}, hidden=API_HIDDEN, anonymous=401), method="POST",
        data=lambda c: {"account": c.target.pk, "source_id": f"authz:{c.target.pk}",
                        "metric": "calls", "quantity": 1,
                        "occurred_at": "2026-11-23T09:00:00+01:00"}, scoped=True),
    "GET /api/v1/usage": Route(
        expect(API_VISIBLE, hidden=API_HIDDEN, anonymous=401), scoped=True,
        query=lambda c: {"account": c.target.pk}),
    # --- Billing: invoices, credit notes, subscriptions (read). Billing staff, supervisors
    # and administrators: every account; clients: their own (the other's: 404); agents: 403.
    "GET /api/v1/invoices": Route(expect(QUOTE_MANAGERS | CLIENTS, anonymous=401)),
    "GET /api/v1/invoices/{number}": Route(
        expect(QUOTE_MANAGERS | {CLIENT}, hidden={OUTSIDER}, anonymous=401), scoped=True,
        kwargs=lambda c: {"number": c.of_target("invoice").number}),
    "GET /api/v1/invoices/{number}/pdf": Route(
        expect(QUOTE_MANAGERS | {CLIENT}, hidden={OUTSIDER}, anonymous=401), scoped=True,
        kwargs=lambda c: {"number": c.of_target("invoice").number}),
    "GET /api/v1/invoices/{number}/facturx": Route(
        expect(QUOTE_MANAGERS | {CLIENT}, hidden={OUTSIDER}, anonymous=401), scoped=True,
        kwargs=lambda c: {"number": c.of_target("invoice").number}),
    "GET /api/v1/credit-notes": Route(expect(QUOTE_MANAGERS | CLIENTS, anonymous=401)),
    # The world holds no credit note: a number nobody has (404 for those who may look).
    "GET /api/v1/credit-notes/{number}": Route(
        {**expect(set(), refused=403, anonymous=401), **dict.fromkeys(
            [*QUOTE_MANAGERS, CLIENT, OUTSIDER], 404)},
        kwargs=lambda c: {"number": "AV1999-000001"}),
    "GET /api/v1/credit-notes/{number}/pdf": Route(
        {**expect(set(), refused=403, anonymous=401), **dict.fromkeys(
            [*QUOTE_MANAGERS, CLIENT, OUTSIDER], 404)},
        kwargs=lambda c: {"number": "AV1999-000001"}),
    "GET /api/v1/subscriptions": Route(expect(QUOTE_MANAGERS | CLIENTS, anonymous=401)),
    "GET /api/v1/subscriptions/{subscription_id}": Route(
        expect(QUOTE_MANAGERS | {CLIENT}, hidden={OUTSIDER}, anonymous=401), scoped=True,
        kwargs=lambda c: {"subscription_id": c.of_target("subscription").pk}),
    # --- Knowledge base (issue 13): articles with the UI's rules (clients: their accounts'
    # public articles; billing reads; global articles by managers), and the public bot.
    # --- Reports: staff read the indicators of the accounts they see (another account: 404);
    # the staffing calculator is for staff; clients get neither (403).
    "GET /api/v1/reports/kpis": Route(
        expect({AGENT, SUPERVISOR, BILLING, ADMIN}, hidden={OTHER_AGENT}, anonymous=401),
        scoped=True, query=lambda c: {"from": "2026-11-01", "to": "2026-11-30",
                                      "account": c.target.pk}),
    "GET /api/v1/reports/staffing": Route(
        expect(STAFF, anonymous=401),
        query=lambda c: {"calls": 100, "interval_minutes": 30, "aht_seconds": 180}),
    "GET /api/v1/knowledge/articles": Route(expect(AUTHENTICATED, anonymous=401)),
    "POST /api/v1/knowledge/articles": Route(
        expect({CLIENT, *API_WORKERS}, hidden=API_HIDDEN, anonymous=401), method="POST",
        data=lambda c: {"account": c.target.pk, "title": "Parking", "visibility": "public"},
        scoped=True),
    "GET /api/v1/knowledge/articles/{article_id}": Route(
        expect(API_VISIBLE, hidden=API_HIDDEN, anonymous=401), scoped=True,
        kwargs=lambda c: {"article_id": c.of_target("knowledge_public").pk}),
    "PATCH /api/v1/knowledge/articles/{article_id}": Route(
        expect({CLIENT, *API_WORKERS}, hidden=API_HIDDEN, anonymous=401), method="PATCH",
        scoped=True, kwargs=lambda c: {"article_id": c.of_target("knowledge_public").pk},
        data=lambda c: {"title": "Horaires (modifié)"}),
    "DELETE /api/v1/knowledge/articles/{article_id}": Route(
        expect({CLIENT, *API_WORKERS}, hidden=API_HIDDEN, anonymous=401), method="DELETE",
        scoped=True, kwargs=lambda c: {"article_id": c.of_target("knowledge_public").pk}),
    # Public (the chat widget, no login), rate-limited per IP; reads published public articles.
    "POST /api/v1/bot/answer": Route(everyone(), method="POST", scoped=True, data=lambda c: {
        "account": c.target.slug, "question": "Quels sont vos horaires ?"}),
}

# --- Discovery ---------------------------------------------------------------------------------


def _api_operations(api: Any = None) -> dict[str, str]:
    """{"METHOD /api/v1/path": django route} for every operation of the ninja API."""
    if api is None:
        from permanence.api import api
    api.urls  # noqa: B018 — binds the routers (nested ones included) to the API
    ops: dict[str, str] = {}
    for prefix, router in api._routers:
        for path, path_view in router.path_operations.items():
            full = "/" + "/".join(p.strip("/") for p in (prefix, path) if p.strip("/"))
            for operation in path_view.operations:
                for method in operation.methods:
                    ops[f"{method.upper()} {API_PREFIX}{full}"] = (
                        "api/v1" + re.sub(r"\{(\w+)\}", r"<\1>", full))
    return ops


def _url_patterns() -> list[tuple[str, str]]:
    """(route, key) for every URL pattern; key is "namespace:name" (or the route if unnamed)."""
    found: list[tuple[str, str]] = []

    def walk(patterns: list[Any], prefix: str, namespace: str) -> None:
        for p in patterns:
            route = prefix + str(p.pattern)
            if isinstance(p, URLResolver):
                ns = ":".join(x for x in (namespace, p.namespace or "") if x)
                walk(p.url_patterns, route, ns)
            elif isinstance(p, URLPattern):
                key = f"{namespace}:{p.name}" if namespace and p.name else (p.name or route)
                found.append((route, key))

    walk(get_resolver().url_patterns, "", "")
    return found


def matrix_problems(api: Any = None) -> list[str]:
    """Differences between the routes that exist and the routes the matrix covers."""
    ops = _api_operations(api)
    api_routes = set(_api_operations().values()) | set(ops.values())
    pages = [(route, key) for route, key in _url_patterns()
             if route not in api_routes
             and not any(route.startswith(prefix) for prefix in EXEMPT_PREFIXES)]
    keys = [key for _route, key in pages]
    problems = []
    duplicates = sorted({k for k in keys if keys.count(k) > 1})
    if duplicates:
        problems.append(f"Several URL patterns share the name(s) {duplicates}: give each a "
                        "distinct name so the authorization matrix can tell them apart.")
    missing = sorted(set(keys) - set(MATRIX))
    if missing:
        problems.append(f"New page route(s) {missing} are not in the authorization matrix: "
                        "add them to MATRIX in tests/test_authorization.py with the expected "
                        "outcome for every role.")
    stale = sorted(set(MATRIX) - set(keys))
    if stale:
        problems.append(f"MATRIX lists route(s) that no longer exist: {stale}")
    missing_api = sorted(set(ops) - set(API_MATRIX))
    if missing_api:
        problems.append(f"New API operation(s) {missing_api} are not in the authorization "
                        "matrix: add them to API_MATRIX in tests/test_authorization.py with "
                        "the expected outcome for every role.")
    stale_api = sorted(set(API_MATRIX) - set(ops))
    if stale_api:
        problems.append(f"API_MATRIX lists operation(s) that no longer exist: {stale_api}")
    return problems


def test_every_route_is_in_the_matrix() -> None:
    problems = matrix_problems()
    assert not problems, "\n".join(problems)


def test_a_new_page_route_fails_the_matrix_check(settings: Any) -> None:
    """The check above really catches an unlisted view (a URLconf with one more pattern)."""
    import sys
    import types

    from django.http import HttpResponse
    from django.urls import path

    import permanence.urls

    module = types.ModuleType("authz_extra_urls")
    module.urlpatterns = [  # type: ignore[attr-defined]
        *permanence.urls.urlpatterns,
        path("app/nouvelle-page/", lambda request: HttpResponse(), name="nouvelle_page"),
    ]
    baseline = matrix_problems()
    sys.modules[module.__name__] = module
    try:
        settings.ROOT_URLCONF = module.__name__
        problems = matrix_problems()
    finally:
        del sys.modules[module.__name__]
    new = [p for p in problems if p not in baseline]
    assert len(new) == 1, problems
    assert "'nouvelle_page'" in new[0] and "not in the authorization matrix" in new[0]


def test_a_new_api_operation_fails_the_matrix_check() -> None:
    from ninja import NinjaAPI, Router

    extra = Router()

    @extra.delete("/accounts/{account_id}")
    def account_delete(request: Any, account_id: int) -> None:
        raise AssertionError("never called")

    probe = NinjaAPI(urls_namespace="authz-probe")
    probe.add_router("", extra)
    problems = matrix_problems(probe)
    assert any("['DELETE /api/v1/accounts/{account_id}']" in p for p in problems), problems


def test_api_discovery_agrees_with_openapi_schema() -> None:
    """The operations found through ninja's internals are exactly the documented ones."""
    from permanence.api import api

    schema = api.get_openapi_schema(path_prefix=API_PREFIX)
    documented = {f"{method.upper()} {path}" for path, item in schema["paths"].items()
                  for method in item}
    assert documented == set(_api_operations())
    # And each operation really is mounted in the URLconf.
    routes = {route for route, _key in _url_patterns()}
    assert set(_api_operations().values()) <= routes


def test_every_role_has_an_expectation() -> None:
    for key, route in {**MATRIX, **API_MATRIX}.items():
        assert set(route.expected) == set(ROLES), key
        assert route.method in {"GET", "POST", "PUT", "PATCH", "DELETE"}, key


# --- Requests ----------------------------------------------------------------------------------


def _site_world() -> dict[str, Any]:
    """Storefront: a published plan with a published option, a public page, the published
    CGV version (the one the orders accepted) and a CGV draft."""
    from permanence.catalog.models import PublicPage, TermsVersion
    from testkit.shop import make_offer, make_terms

    plan = make_offer("confort-authz")
    plan.options.add(make_offer("sms-authz", kind="option", monthly_price_cents=0,
                                unit_price_cents=12, unit="message", included_quantity=0,
                                included_unit=""))
    return {
        "site_offer": plan,
        "site_page": PublicPage.objects.create(slug="mentions-legales", title="Mentions légales",
                                               body="## Éditeur\nPermanence SAS"),
        "site_terms": make_terms(),
        "site_terms_draft": TermsVersion.objects.create(version="2027-01", body="Brouillon"),
    }


def _cart_world(client_user: Any) -> dict[str, Any]:
    """Storefront: the client user's open cart, with one line."""
    from permanence.shop.cart import cart_add
    from testkit.shop import make_offer

    cart = cart_add(cart=None, user=client_user, offer=make_offer().slug)
    return {"cart_line": cart.lines.get()}


def _quote_world(admin: Any, accounts: list[Any]) -> dict[str, Any]:
    """Storefront: a sent quote per account (addressed to its client user), and a draft."""
    from permanence.shop.quotes.services import line_input_from_offer, quote_create, quote_send
    from testkit.shop import make_offer, make_terms

    make_terms()
    lines = [line_input_from_offer(make_offer())]
    sent = {}
    for acc in accounts:
        email = acc.memberships.get().user.email
        quote = quote_create(actor=admin, account=acc, lines=lines,
                             data={"requester_name": acc.name, "requester_email": email})
        sent[acc.pk] = quote_send(actor=admin, quote=quote)
    draft = quote_create(actor=admin, lines=lines, data={
        "requester_name": "Prospect", "requester_email": "prospect@exemple.fr"})
    return {"quotes": sent, "quote_draft": draft}


def _payments_world(order: Any) -> dict[str, Any]:
    """Storefront: a matched bank transfer (refund refused with a message, no change) and a
    provider event whose processing failed (retry: processed, ignored)."""
    from django.utils import timezone

    from permanence.payments.models import Payment, ProviderEvent

    now = timezone.now()
    return {
        "payment": Payment.objects.create(
            order=order, provider="virement", method="virement", status="reussi",
            amount_cents=order.total_ttc_cents, idempotency_key="authz-transfer",
            created_at=now, succeeded_at=now),
        "provider_event": ProviderEvent.objects.create(
            provider="stripe", event_id="evt_authz_failed", type="checkout.session.completed",
            payload={"data": {"object": {"id": "cs_authz_unknown"}}}, received_at=now,
            attempts=1, last_error="RuntimeError: boom"),
    }


def _recovery_world(invoice: Any) -> dict[str, Any]:
    """Facturation › Impayés: an open payment incident on an invoice."""
    from django.utils import timezone

    from permanence.recovery.models import PaymentIncident

    return {"incident": PaymentIncident.objects.create(
        invoice=invoice, account=invoice.account, amount_cents=invoice.total_ttc_cents,
        opened_at=timezone.now(), reason="Carte refusée")}


def _schedule_world(invoice: Any) -> dict[str, Any]:
    """Facturation › Échéanciers: a schedule of two instalments on an invoice."""
    from datetime import timedelta

    from django.utils import timezone

    from permanence.billing.models_schedules import Instalment, PaymentSchedule

    schedule = PaymentSchedule.objects.create(account=invoice.account, total_cents=2000,
                                              method="virement", created_at=timezone.now())
    schedule.invoices.set([invoice])
    first = Instalment.objects.create(schedule=schedule, position=1, amount_cents=1000,
                                      due_on=timezone.localdate())
    Instalment.objects.create(schedule=schedule, position=2, amount_cents=1000,
                              due_on=timezone.localdate() + timedelta(days=30))
    return {"schedule": schedule, "instalment": first}


def _feedback_world(account: Any) -> dict[str, Any]:
    from django.utils import timezone

    from permanence.feedback.models import Feedback

    now = timezone.now()
    return {"feedback": Feedback.objects.create(page="/offres/", rating=3, account=account,
                                                created_at=now, updated_at=now)}


def _planning_world(agent: Any) -> dict[str, Any]:
    from datetime import time

    from django.utils import timezone

    from permanence.planning.models import Shift

    now = timezone.now()
    return {"shift": Shift.objects.create(agent=agent, day=timezone.localdate(),
                                          starts_at=time(8), ends_at=time(12), created_at=now,
                                          updated_at=now)}


def _desk_calls_world(account: Any) -> dict[str, Any]:
    """Desk: a call back owed to a caller of the account (missed call)."""
    from django.utils import timezone

    from permanence.desk.models import Callback

    now = timezone.now()
    return {"callback": Callback.objects.create(
        account=account, number="+33699887766", reason="missed", due_at=now,
        created_at=now)}


def _agenda_world(account: Any, admin: Any) -> dict[str, Any]:
    """Agenda: a resource open every day 08:00-20:00, a 30-minute type it takes, and one
    appointment on Monday 7 January 2030 at 09:00 (10:00 stays free to book)."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from permanence.agenda import services as agenda

    days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    resource = agenda.resource_create(actor=admin, account_id=account.pk, data={
        "name": "Dr Martin", "weekly": {d: [["08:00", "20:00"]] for d in days}})
    kind = agenda.type_create(actor=admin, account_id=account.pk, data={
        "name": "Consultation", "duration_minutes": 30}, resource_ids=[resource.pk])
    appointment = agenda.appointment_book(
        actor=admin, kind=kind, start=datetime(2030, 1, 7, 9, tzinfo=ZoneInfo("Europe/Paris")),
        booking=agenda.Booking(contact=agenda.Contact(name="Jeanne Petit")))
    absence = agenda.exception_add(
        actor=admin, resource=resource, kind="closed",
        start=datetime(2030, 1, 14, 8, tzinfo=ZoneInfo("Europe/Paris")),
        end=datetime(2030, 1, 14, 20, tzinfo=ZoneInfo("Europe/Paris")), note="Congés")
    return {"agenda_resource": resource, "agenda_type": kind, "appointment": appointment,
            "agenda_absence": absence}


def _knowledge_world(account: Any, admin: Any) -> dict[str, Any]:
    """Knowledge: a published public article and a published internal procedure of the
    account (a global public article is in `extra`)."""
    from permanence.knowledge import services as knowledge

    def article(title: str, visibility: str) -> Any:
        made = knowledge.article_create(actor=admin, account=account, data=knowledge.ArticleData(
            title=title, body="<p>Ouvert de 9 h à 18 h.</p>", visibility=visibility))
        return knowledge.article_publish(actor=admin, article=made)

    return {"knowledge_public": article("Horaires", "public"),
            "knowledge_internal": article("Procédure d'accueil", "internal")}


def _livechat_world(account: Any) -> dict[str, Any]:
    """Live chat enabled for the account, and one visitor's chat waiting for a secretary."""
    from permanence.livechat import services as livechat
    from permanence.livechat.models import ChatSession, ChatSettings

    settings_row = ChatSettings.objects.create(account=account, enabled=True,
                                               allowed_origins="https://client.example")
    chat, token = livechat.chat_start(chat_settings=settings_row, origin="https://client.example",
                                      name="Jeanne", email=f"jeanne@{account.slug}.test",
                                      consent=True)
    livechat.visitor_message_send(session=chat, client_id="m1", body="Un conseiller svp")
    ChatSession.objects.filter(pk=chat.pk).update(status="attente", waiting_since=chat.created_at)
    chat.refresh_from_db()
    return {"chat": chat, "chat_token": token}


def _knowledge_global(admin: Any) -> Any:
    from permanence.knowledge import services as knowledge

    made = knowledge.article_create(actor=admin, account=None, data=knowledge.ArticleData(
        title="Questions fréquentes", body="<p>Réponses.</p>"))
    return knowledge.article_publish(actor=admin, article=made)


def _build_world() -> Ctx:
    """Users of every role, two accounts with everything a route may be about."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import timezone

    from permanence.accounts.models import ClientAccount, ContactChannel, Membership, User
    from permanence.accounts.services import api_token_create
    from permanence.billing.models import Subscription
    from permanence.billing.models_invoices import Invoice
    from permanence.calendars.models import Announcement
    from permanence.channels_sms.models import OptOut
    from permanence.desk import setup as desk_setup
    from permanence.desk.consignes import consigne_save
    from permanence.desk.models import Call, Campaign, CampaignTarget, Forward
    from permanence.inbox import attachments, services
    from permanence.inbox.models import Kind, Team
    from permanence.inbox.models_complaints import SurveyResponse
    from permanence.integrations.models import WebhookDelivery, WebhookEndpoint
    from permanence.privacy.models import SubjectExport, SubjectRequest
    from permanence.shop.orders import order_transition
    from testkit.shop import make_order, mark_checked

    def user(email: str, role: str) -> Any:
        return User.objects.create_user(email, None, role=role, full_name=email.split("@", maxsplit=1)[0])

    users = {ADMIN: user("admin@test.fr", "admin"),
             SUPERVISOR: user("superviseur@test.fr", "supervisor"),
             AGENT: user("agent@test.fr", "agent"), OTHER_AGENT: user("agent2@test.fr", "agent"),
             BILLING: user("compta@test.fr", "billing"), CLIENT: user("client@test.fr", "client"),
             OUTSIDER: user("autre-client@test.fr", "client")}
    ClientAccount.objects.create(name="Permanence", slug="operateur", is_operator=True,
                                 status="actif")
    account = ClientAccount.objects.create(name="Cabinet Martin", slug="cabinet-martin",
                                           sector="medical", status="actif")
    other_account = ClientAccount.objects.create(name="Durand Avocats", slug="durand-avocats",
                                                 sector="juridique", status="actif")
    # Clients since January: last months' activity reports exist (reports_client_pdf).
    ClientAccount.objects.filter(pk__in=[account.pk, other_account.pk]).update(
        created_at=datetime(2026, 1, 1, tzinfo=UTC))
    objects: dict[int, dict[str, Any]] = {}
    for acc, agent, member in ((account, users[AGENT], users[CLIENT]),
                               (other_account, users[OTHER_AGENT], users[OUTSIDER])):
        acc.assigned_agents.add(agent)
        Membership.objects.create(user=member, account=acc, role="titulaire")

        def incoming(subject: str, kind: str = Kind.QUESTION, acc: Any = acc) -> Any:
            return services.Incoming(account=acc, channel="email", subject=subject,
                                     body_text="Bonjour", kind=kind,
                                     contact_email=f"client@{acc.slug}.fr", acknowledge=False)

        conversation = services.conversation_open(incoming("Question"))
        second = services.message_add_inbound(conversation, incoming("Autre sujet"))
        objects[acc.pk] = {
            "channel": ContactChannel.objects.create(account=acc, kind="email",
                                                     value=f"contact@{acc.slug}.fr"),
            "conversation": conversation,
            "second_message": second,
            "attachment": attachments.store(second, SimpleUploadedFile("note.txt", b"Bonjour")),
            "complaint": services.conversation_open(incoming("Réclamation", Kind.COMPLAINT)),
            # The client's own request from the espace client.
            "request": services.conversation_open(services.Incoming(
                account=acc, channel="espace_client", subject="Ma demande", body_text="Bonjour",
                contact_email=member.email, origin="client", acknowledge=False)),
            # Storefront: a paid order of this account, bought by its client user.
            "order": make_order(acc, member),
        }
        order_transition(order=objects[acc.pk]["order"], to="payee")
        # Billing: the paid order's invoice (issued by billing's hook on « payée »).
        objects[acc.pk]["invoice"] = Invoice.objects.get(order=objects[acc.pk]["order"])
        # Billing: a subscription of the account (as an activated order leaves it).
        objects[acc.pk]["subscription"] = Subscription.objects.create(
            account=acc, order=objects[acc.pk]["order"],
            offer=objects[acc.pk]["order"].lines.first().offer, label="Forfait",
            started_at=timezone.now())
        mark_checked(objects[acc.pk]["order"])  # « Vérifier » done: validation is allowed
        objects[acc.pk].update(_desk_calls_world(acc))  # Desk: a call back to make
        objects[acc.pk].update(_agenda_world(acc, users[ADMIN]))  # Agenda
        objects[acc.pk].update(_knowledge_world(acc, users[ADMIN]))  # Knowledge base
        objects[acc.pk].update(_livechat_world(acc))  # Live chat: a chat waiting for someone
        # Desk: an outbound campaign in progress, with one person to call.
        objects[acc.pk]["campaign"] = Campaign.objects.create(
            account=acc, name=f"Relance {acc.slug}", kind="relance", status="active",
            created_at=timezone.now())
        objects[acc.pk]["campaign_target"] = CampaignTarget.objects.create(
            campaign=objects[acc.pk]["campaign"], name="Jeanne Petit", phone="+33612345678")
        # Desk: a call with a recording the guard refuses to fetch (loopback): 502 for those
        # allowed to listen, before any network call.
        objects[acc.pk]["recorded_call"] = Call.objects.create(
            call_id=f"rec-{acc.slug}", account=acc, offered_at=timezone.now(),
            created_at=timezone.now(), recording_url="http://127.0.0.1:9/appel.wav")
        # Desk: the account's set-up checklist (as an activated order opens it).
        objects[acc.pk]["setup"] = desk_setup.setup_open(account=acc)
        # Desk: the account's consignes (version 1), to read and confirm.
        objects[acc.pk]["consignes"] = consigne_save(
            actor=users[ADMIN], account=acc,
            content={"greeting": "{compte}, bonjour.", "notes": "Vouvoyer."})
        # Desk: a call taken by hand for the account, and its message forwarded by e-mail.
        objects[acc.pk]["call"] = call = Call.objects.create(
            call_id=f"manual-authz-{acc.slug}", account=acc, from_number="+33611223344",
            agent=agent, state="answered", outcome="answered", manual=True,
            offered_at=timezone.now(), answered_at=timezone.now(), created_at=timezone.now())
        objects[acc.pk]["forward"] = Forward.objects.create(
            account=acc, call=call, recipient_name="Dr Martin", channel="email",
            address=f"dr@{acc.slug}.fr", status="sent", created_at=timezone.now())
        # SMS: a number that sent STOP to the account.
        objects[acc.pk]["sms_opt_out"] = OptOut.objects.create(
            account=acc, number="+33699000001", keyword="STOP", created_at=timezone.now())
        # Privacy: a data subject's request about the whole account, and its ready export.
        objects[acc.pk]["subject_request"] = subject_request = SubjectRequest.objects.create(
            kind="portabilite", target="compte", account=acc, received_at=timezone.now(),
            due_at=timezone.now() + timedelta(days=30), created_at=timezone.now())
        objects[acc.pk]["subject_export"] = SubjectExport.objects.create(
            request=subject_request, account=acc, status="prete",
            path=f"privacy/exports/authz-{acc.slug}.zip", size=2, sha256="0" * 64,
            created_at=timezone.now(), finished_at=timezone.now())
    now = timezone.now()
    token, _raw = api_token_create(actor=users[AGENT], user=users[AGENT], name="révocable")
    webhook = WebhookEndpoint.objects.create(url="https://hooks.example.com/permanence",
                                             events=["conversation.created"])
    extra = {
        "team": Team.objects.create(name="Équipe A"),
        "webhook": webhook,
        "delivery": WebhookDelivery.objects.create(endpoint=webhook,
                                                   event="conversation.created",
                                                   payload={}, status="failed",
                                                   created_at=now),
        # --- Storefront world: catalog and site objects ---
        **_site_world(),
        # --- Storefront world: carts ---
        **_cart_world(users[CLIENT]),
        # --- Storefront world: quotes ---
        **_quote_world(users[ADMIN], [account, other_account]),
        # --- Storefront world: payments ---
        **_payments_world(objects[account.pk]["order"]),
        # --- Billing: a payment incident on the account's invoice (recovery) ---
        **_recovery_world(objects[account.pk]["invoice"]),
        # --- Billing: a payment schedule on the account's invoice ---
        **_schedule_world(objects[account.pk]["invoice"]),
        # --- « Votre avis »: one opinion about a page ---
        **_feedback_world(account),
        # --- Planning: one shift of the agent ---
        **_planning_world(users[AGENT]),
        # --- Knowledge base: a global (operator) public article ---
        "knowledge_global": _knowledge_global(users[ADMIN]),
        # --- Reports: a team objective and a challenge ---
        **_reports_world(users[SUPERVISOR]),
        # --- Quality: the global grid, and a review of each account's call ---
        **_quality_world(users[SUPERVISOR], objects),
        # --- Privacy: one entry of the breach register ---
        "breach": Breach.objects.create(title="Incident", description="Test",
                                        discovered_at=now, created_at=now, updated_at=now),
        # --- Status: one entry of the incident log ---
        # Not "incident": that key is the recovery world's PaymentIncident.
        "status_incident": Incident.objects.create(
            title="Panne", channels=["web"], starts_at=now, created_at=now, updated_at=now),
    }
    return Ctx(
        users=users, account=account, other_account=other_account, objects=objects,
        announcement=Announcement.objects.create(title="Fermeture", starts_at=now,
                                                 ends_at=now + timedelta(days=1)),
        agent_token=token, extra=extra,
        survey=SurveyResponse.objects.create(conversation=objects[account.pk]["conversation"],
                                             sent_at=now),
    )


def _quality_world(supervisor: Any, objects: dict[int, dict[str, Any]]) -> dict[str, Any]:
    """The global grid (one criterion), and per account a review of its call (taken by the
    account's agent) by the supervisor, not yet acknowledged."""
    from permanence.quality import services as quality

    grid = quality.grid_create(actor=supervisor, name="Grille standard")
    criterion = quality.criterion_save(actor=supervisor, grid=grid, label="Accueil", weight=1,
                                       order=1)
    for items in objects.values():
        items["quality_review"] = quality.review_create(
            actor=supervisor, call=items["call"],
            scores={criterion.pk: quality.ScoreInput(value=3)})
    return {"quality_grid": grid, "quality_criterion": criterion}


def _reports_world(supervisor: Any) -> dict[str, Any]:
    from django.utils import timezone

    from permanence.reports import objectives, scheduled

    today = timezone.now().date()
    return {"scheduled_export": scheduled.scheduled_export_create(
                actor=supervisor, what="", which="", account_id=None, channel="",
                frequency="mensuel", fmt="xlsx"),
            "objective": objectives.objective_create(
                actor=supervisor, indicator="answer_rate", target=90, period="jour", agent=None),
            "challenge": objectives.challenge_create(
                actor=supervisor, title="Décroché d'or", indicator="answer_rate", target=95,
                starts_on=today, ends_on=today + timedelta(days=7), reward="Petit-déjeuner")}


@pytest.fixture(scope="module")
def world(django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: Any) -> Any:
    """Built once for the module inside a transaction rolled back at the end; each test runs
    in a savepoint inside it (pytest-django's `db`), so tests cannot leak into each other."""
    from django.db import transaction
    from django.test import override_settings

    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            with override_settings(
                    MEDIA_ROOT=str(tmp_path_factory.mktemp("authz-media")),
                    EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
                built = _build_world()
            yield built
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.fixture
def ctx(world: Ctx, db: Any) -> Ctx:
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    # Each test has its own MEDIA_ROOT (conftest): put the attachments' files there.
    for objects in world.objects.values():
        default_storage.save(objects["attachment"].file.name, ContentFile(b"Bonjour"))
        default_storage.save(objects["subject_export"].path, ContentFile(b"PK"))
    return dataclasses.replace(world)


# Fields that move on reads, not on writes: a login, an API call.
VOLATILE_FIELDS = {"last_login", "last_used_at"}


@functools.cache
def _snapshot_queries() -> tuple[tuple[str, str], ...]:
    from django.apps import apps
    from django.db import connection

    from permanence.audit.models import AuditEvent

    q = connection.ops.quote_name
    queries = []
    for model in apps.get_models(include_auto_created=True):
        if not model.__module__.startswith("permanence.") or model is AuditEvent:
            continue
        opts = model._meta
        columns = ", ".join(q(str(f.column)) for f in opts.concrete_fields
                            if f.name not in VOLATILE_FIELDS)
        queries.append((opts.label, f"SELECT {columns} FROM {q(opts.db_table)} "  # noqa: S608
                                    f"ORDER BY {q(str(opts.pk.column))}"))
    table = q(AuditEvent._meta.db_table)
    queries.append(("audit_writes", f"SELECT COUNT(*) FROM {table} "  # noqa: S608
                                    "WHERE action IN ('create', 'update', 'delete')"))
    return tuple(queries)


def snapshot() -> dict[str, Any]:
    """Every row of every model of the project (and the number of audit events recording a
    write): everything a refused request must leave untouched. Raw SQL: this runs twice per
    refused request, the ORM's query compilation would dominate the test time."""
    from django.db import connection

    with connection.cursor() as cursor:
        state = {}
        for label, sql in _snapshot_queries():
            cursor.execute(sql)
            state[label] = cursor.fetchall()
    return state


# Application bugs this matrix found, not fixed yet: (route, role) → what happens instead.
# Strict: the day the bug is fixed, the case XPASSes and fails; then remove it from here.
# (route, role) pairs known to misbehave, as strict xfails; empty when all is well.
KNOWN_BUGS: dict[tuple[str, str], str] = {}


def _cases(matrix: dict[str, Route]) -> list[Any]:
    cases = []
    for key, route in matrix.items():
        for target in (("own", "other") if route.scoped else ("own",)):
            for role in ROLES:
                bug = KNOWN_BUGS.get((key, role))
                marks = [pytest.mark.xfail(reason=bug, strict=True)] if bug else []
                cases.append(pytest.param(key, target, role, id=f"{key}[{target}]-{role}",
                                          marks=marks))
    return cases


_HANDLER: list[Any] = []


def _client(token: str | None = None) -> Client:
    """A test client sharing one request handler: building the middleware chain costs a
    tenth of a second (WhiteNoise indexes every static file), hundreds of times over."""
    client = Client(headers={"Authorization": f"Bearer {token}"} if token else None)
    if _HANDLER:
        client.handler = _HANDLER[0]
    else:
        _HANDLER.append(client.handler)
    return client


def api_token_for(user: Any) -> str:
    from permanence.accounts.services import api_token_create

    _token, raw = api_token_create(actor=user, user=user, name="test")
    return raw


def _expected(route: Route, target: str, role: str) -> str | int:
    if target == "other":
        return route.expected[MIRROR.get(role, role)]
    return route.expected[role]


def _check(response: Any, expected: str | int, *, key: str, role: str, before: Any) -> None:
    login_path = reverse("login")
    location = response.get("Location", "")
    where = f"{response.request['REQUEST_METHOD']} {response.request['PATH_INFO']} as {role}"
    status = response.status_code
    if expected == OK:
        # A write with an invalid body (422) got past the permission checks too.
        invalid_write = status == 422 and response.request["REQUEST_METHOD"] != "GET"
        assert 200 <= status < 300 or invalid_write or (
            300 <= status < 400 and not location.startswith(login_path)), (
            f"{where}: expected access, got {status} {location}")
    elif expected == LOGIN:
        assert status == 302 and location.startswith(login_path), (
            f"{where}: expected a redirect to the login page, got {status} {location}")
    else:
        assert status == expected, f"{where}: expected {expected}, got {status} {location}"
    if expected != OK:
        assert snapshot() == before, f"{where}: a refused request changed data ({key})"


@pytest.mark.parametrize(("key", "target", "role"), _cases(MATRIX))
def test_page_access(ctx: Ctx, key: str, target: str, role: str) -> None:
    route = MATRIX[key]
    ctx.target = ctx.account if target == "own" else ctx.other_account
    client = _client()
    if role != ANON:
        client.force_login(ctx.users[role], backend="django.contrib.auth.backends.ModelBackend")
    url = reverse(key, kwargs=route.kwargs(ctx) if route.kwargs else None)
    data = route.data(ctx) if route.data else {}
    expected = _expected(route, target, role)
    before = snapshot() if expected != OK else None
    response = getattr(client, route.method.lower())(url, data)
    _check(response, expected, key=key, role=role, before=before)


@pytest.mark.parametrize(("key", "target", "role"), _cases(API_MATRIX))
def test_api_access(ctx: Ctx, key: str, target: str, role: str) -> None:
    route = API_MATRIX[key]
    ctx.target = ctx.account if target == "own" else ctx.other_account
    client = _client() if role == ANON else _client(api_token_for(ctx.users[role]))
    _method, path = key.split(" ", 1)
    url = path.format(**(route.kwargs(ctx) if route.kwargs else {}))
    if route.query:
        url += "?" + urlencode(route.query(ctx))
    body = json.dumps(route.data(ctx) if route.data else {})
    expected = _expected(route, target, role)
    before = snapshot() if expected != OK else None
    response = client.generic(route.method, url, body, content_type="application/json")
    _check(response, expected, key=key, role=role, before=before)
    if route.expected[ANON] == 401 and role == ANON:
        assert response.json()["code"] == "unauthorized"
    if 400 <= response.status_code < 500:
        assert response["Content-Type"].startswith("application/json"), key


# Invalid for every write operation: empty name, unknown status, non-numeric account, ...
INVALID_BODY = {"name": "", "status": "inconnu", "account": "x", "weekly": 1, "start": "hier"}


@pytest.mark.parametrize("role", sorted(AUTHENTICATED))
def test_api_write_with_invalid_body_is_rejected_before_any_write(
        ctx: Ctx, role: str) -> None:
    """An invalid body on every write: 422 (or 403/404 if refused first), never a write."""
    client = _client(api_token_for(ctx.users[role]))
    ctx.target = ctx.account
    for key, route in API_MATRIX.items():
        # A DELETE reads no body: there is nothing invalid to send it (its refusals are
        # test_api_access's).
        if route.method in ("GET", "DELETE"):
            continue
        _method, path = key.split(" ", 1)
        url = path.format(**(route.kwargs(ctx) if route.kwargs else {}))
        before = snapshot()
        response = client.generic(route.method, url, json.dumps(INVALID_BODY),
                                  content_type="application/json")
        # The Stripe webhook is public: an unsigned body is refused (400) before anything else.
        # The telephony webhooks answer an unsigned body with 401.
        allowed = ({400} if key == "POST /api/v1/payments/stripe/webhook" else {401}
                   if key.startswith("POST /api/v1/telephony/") else {403, 404, 422})
        assert response.status_code in allowed, (key, role, response.status_code)
        assert response["Content-Type"].startswith("application/json"), key
        assert snapshot() == before, (key, role)


@pytest.mark.parametrize("role", sorted(AUTHENTICATED))
def test_a_call_to_an_unknown_number_is_the_supervisors(ctx: Ctx, role: str) -> None:
    """A call to a number no account has (kept and flagged, never dropped) belongs to no
    account: supervisors and administrators, who are told of it, open it and find it in
    GET /api/v1/calls; nobody else, billing included although it sees every account
    (desk.selectors.calls_visible_to, the one rule for pages and API)."""
    from django.utils import timezone

    from permanence.desk.models import Call

    now = timezone.now()
    call = Call.objects.create(call_id="authz-unknown", account=None, unknown_number=True,
                               to_number="+33100000009", offered_at=now, created_at=now)
    client = _client(api_token_for(ctx.users[role]))
    listed = [i["call_id"] for i in client.get("/api/v1/calls").json()["items"]]
    page = _client()
    page.force_login(ctx.users[role], backend="django.contrib.auth.backends.ModelBackend")
    before = snapshot()
    status = page.get(reverse("desk:call", kwargs={"pk": call.pk})).status_code
    if role in MANAGERS:
        assert "authz-unknown" in listed and status == 200
    else:
        # Who takes no call is refused the call screen (403); an agent does not find it.
        assert "authz-unknown" not in listed
        assert status == (404 if role in (AGENT, OTHER_AGENT) else 403), status
        assert snapshot() == before


@pytest.mark.parametrize("role", ROLES)
def test_django_admin_is_closed_to_every_role(ctx: Ctx, role: str) -> None:
    """No application role is a superuser: /django-admin/ always sends to its own login."""
    client = _client()
    if role != ANON:
        client.force_login(ctx.users[role], backend="django.contrib.auth.backends.ModelBackend")
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))



def test_snapshot_sees_every_kind_of_write(ctx: Ctx) -> None:
    """The side-effect detector is not blind: each of these writes changes the snapshot."""
    from permanence.accounts import services
    from permanence.calendars.announcements import announcement_delete
    from permanence.calendars.services import calendar_for_account, calendar_to_json
    from permanence.inbox import services as inbox

    admin = ctx.users[ADMIN]
    conversation = ctx.objects[ctx.account.pk]["conversation"]
    writes: list[Callable[[], Any]] = [
        lambda: type(ctx.account).objects.filter(pk=ctx.account.pk).update(notes="x"),
        lambda: ctx.account.assigned_agents.remove(ctx.users[AGENT]),
        lambda: services.api_token_revoke(actor=ctx.users[AGENT], token=ctx.agent_token),
        lambda: services.channel_remove(actor=admin,
                                        channel=ctx.objects[ctx.account.pk]["channel"]),
        lambda: announcement_delete(actor=admin, announcement=ctx.announcement),
        lambda: services.profile_update(actor=ctx.users[CLIENT], data={"phone": "0102030405"}),
        lambda: ctx.users[OUTSIDER].memberships.all().delete(),
        lambda: inbox.conversation_add_note(actor=admin, conversation=conversation,
                                            body="Note"),
        lambda: inbox.conversation_mark_read(user=ctx.users[AGENT], conversation=conversation),
    ]
    for write in writes:
        before = snapshot()
        write()
        assert snapshot() != before
    from permanence.calendars.services import calendar_set

    before = snapshot()
    data = calendar_to_json(calendar_for_account(ctx.account))
    data["closures"] = [{"start": "2026-12-24T12:00:00+01:00",
                         "end": "2026-12-26T08:00:00+01:00", "message": "Noël"}]
    calendar_set(actor=admin, account=ctx.account, data=data)
    after = snapshot()
    assert after["calendars.BusinessCalendar"] != before["calendars.BusinessCalendar"]
    assert after["calendars.Closure"] != before["calendars.Closure"]
