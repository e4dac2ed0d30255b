"""Quotes (devis): writes. A visitor or a client requests a quote; staff build it from catalog
lines (or free lines) with discounts, send it (PDF + link); the client accepts it online,
which turns it into an order (shop/services.order_create), or declines it.

Every status change goes through `quote_transition` (QUOTE_TRANSITIONS, history row, audit).
E-mails leave after commit (core/mail.queue_email, or tasks_quotes for the PDF attachment).

Delays (seed 000): an immediate automatic acknowledgement, an answer within 24 to 48
business hours (`response_due_at` = 48 business hours in the operator's calendar).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from permanence.accounts.models import (
    AccountKind,
    ClientAccount,
    Role,
    Sector,
    User,
)
from permanence.accounts.permissions import Actor
from permanence.accounts.services import (
    client_login_create,
    owner_membership_create,
    prospect_account_create,
)
from permanence.audit.actions import Action
from permanence.audit.services import audit_record
from permanence.catalog.models import Offer, TermsVersion
from permanence.catalog.pricing import LineSpec
from permanence.core import clock
from permanence.core.errors import DomainError, Forbidden, invalid, invalid_fields
from permanence.core.isolation import each_isolated
from permanence.core.mail import queue_email
from permanence.core.money import HUNDRED, compute_totals, line_total_cents
from permanence.core.ratelimit import FixedWindowLimit
from permanence.core.transitions import Machine, lock, transition
from permanence.inbox.live import notifications_create
from permanence.shop.consents import terms_acceptance
from permanence.shop.models import (
    QUOTE_TRANSITIONS,
    CustomerKind,
    Order,
    Quote,
    QuoteLine,
    QuoteStatus,
    QuoteStatusChange,
)
from permanence.shop.orders import operator_deadline
from permanence.shop.permissions import QUOTE_MANAGER_ROLES, can_manage_quotes
from permanence.shop.references import reference_next
from permanence.shop.services import order_create

from .selectors import EDITABLE_STATUSES, current_terms, is_expired, today
from .tasks import send_quote

RESPONSE_BUSINESS_HOURS = 48  # "24 à 48 heures ouvrées"
DEFAULT_VALIDITY_DAYS = 30
REMINDER_DAYS_BEFORE = 3
MAX_LINES = 50

# Public request form: at most 5 accepted requests per IP per 10 minutes (overridable as
# QUOTE_RATE_LIMIT / QUOTE_RATE_WINDOW), like the contact form.
REQUEST_LIMIT = FixedWindowLimit(prefix="quote", setting="QUOTE")
request_rate_limited = REQUEST_LIMIT.exceeded
request_rate_hit = REQUEST_LIMIT.hit
request_retry_after_seconds = REQUEST_LIMIT.retry_after_seconds


# --- Helpers ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class QuoteLineInput:
    """One line as staff typed it (or as the API received it), already parsed."""

    label: str
    quantity: int
    unit_price_cents: int
    vat_rate: Decimal
    discount_percent: Decimal = Decimal(0)
    recurring: bool = False
    offer: Offer | None = None

    @property
    def total_ht_cents(self) -> int:
        return line_total_cents(self.unit_price_cents, self.quantity, self.discount_percent)


def line_input_from_offer(offer: Offer, quantity: int = 1,
                          discount_percent: Decimal = Decimal(0)) -> QuoteLineInput:
    """A catalog offer as a quote line: its monthly price if it has one, else its one-off."""
    recurring = offer.monthly_price_cents > 0
    price = offer.monthly_price_cents if recurring else offer.one_off_price_cents
    return QuoteLineInput(label=offer.display_name, quantity=quantity, unit_price_cents=price,
                          vat_rate=offer.vat_rate, discount_percent=discount_percent,
                          recurring=recurring, offer=offer)


def _new_token() -> str:
    return secrets.token_urlsafe(32)  # 43 characters, 256 bits


def _actor_or_none(actor: User | None) -> User | None:
    return actor if getattr(actor, "pk", None) else None


def _require_manager(actor: User) -> None:
    if not can_manage_quotes(actor):
        raise Forbidden(_("Vous ne pouvez pas modifier les devis."))


def _lock(quote: Quote | int) -> Quote:
    return lock(QUOTE_MACHINE, quote)


def validate_lines(lines: list[QuoteLineInput]) -> None:
    """Field errors keyed `lines.<n>.<field>` (n from 0) for anything a form let through."""
    errors: dict[str, list[str]] = {}
    if len(lines) > MAX_LINES:
        errors["lines"] = [_("Un devis compte au plus %(n)s lignes.") % {"n": MAX_LINES}]
    for n, line in enumerate(lines):
        prefix = f"lines.{n}."
        if not line.label.strip():
            errors[prefix + "label"] = [_("Indiquez un libellé.")]
        elif len(line.label) > 200:
            errors[prefix + "label"] = [_("200 caractères au plus.")]
        if line.quantity < 1 or line.quantity > 1_000_000:
            errors[prefix + "quantity"] = [_("La quantité doit être comprise entre 1 et "
                                             "1 000 000.")]
        if line.unit_price_cents < 0 or line.unit_price_cents > 100_000_000:
            errors[prefix + "unit_price"] = [_("Le prix unitaire doit être compris entre "
                                               "0 et 1 000 000 €.")]
        if not Decimal(0) <= line.discount_percent <= HUNDRED:
            errors[prefix + "discount_percent"] = [_("La remise doit être comprise entre 0 et "
                                                     "100 %.")]
        elif line.discount_percent.as_tuple().exponent < -2:  # type: ignore[operator]
            errors[prefix + "discount_percent"] = [_("Deux décimales au plus.")]
        if not Decimal(0) <= line.vat_rate <= HUNDRED:
            errors[prefix + "vat_rate"] = [_("Le taux de TVA doit être compris entre 0 et "
                                             "100 %.")]
    if errors:
        raise invalid_fields(errors)


def _write_lines(quote: Quote, lines: list[QuoteLineInput]) -> None:
    """Replace the quote's lines and store its totals (core/money rules, per VAT rate)."""
    quote.lines.all().delete()
    QuoteLine.objects.bulk_create([
        QuoteLine(quote=quote, offer=line.offer, label=line.label.strip()[:200],
                  quantity=line.quantity, unit_price_cents=line.unit_price_cents,
                  discount_percent=line.discount_percent, vat_rate=line.vat_rate,
                  recurring=line.recurring, total_ht_cents=line.total_ht_cents,
                  position=n) for n, line in enumerate(lines)])
    totals = compute_totals((line.total_ht_cents, line.vat_rate) for line in lines)
    quote.total_ht_cents, quote.total_vat_cents = totals.ht, totals.vat
    quote.total_ttc_cents = totals.ttc


def _record(quote: Quote, previous: str, to: str, actor: User | None, now: datetime, *,
            note: str = "") -> None:
    QuoteStatusChange.objects.create(quote=quote, from_status=previous, to_status=to,
                                     actor=_actor_or_none(actor), at=now, note=note[:300])


def _format_due(at: datetime | None) -> str:
    if at is None:
        return ""
    local = timezone.localtime(at)
    return f"{formats.date_format(local, 'l j F Y')} {local:%H:%M}"


def quote_email(quote: Quote, stem: str, **extra: Any) -> None:
    """A plain-text e-mail to the requester, after commit (acknowledgement, reminder…)."""
    language = getattr(quote.requested_by, "language", "") or settings.LANGUAGE_CODE
    with translation.override(language):
        context = {"quote": quote, "site_url": settings.SITE_URL,
                   "public_url": f"{settings.SITE_URL}/devis/{quote.token}/", **extra}
        subject = render_to_string(f"shop/quotes/email/{stem}_subject.txt", context)
        body = render_to_string(f"shop/quotes/email/{stem}.txt", context)
    queue_email(to=[quote.requester_email], subject=" ".join(subject.split()), body=body)


def _notify_staff(quote: Quote, now: datetime) -> None:
    """In-app notification to everyone who manages quotes (the bell of the back office)."""

    text = _("Nouvelle demande de devis %(ref)s : %(name)s") % {
        "ref": quote.reference, "name": quote.company or quote.requester_name}
    notifications_create(User.objects.filter(role__in=QUOTE_MANAGER_ROLES, is_active=True),
                         kind="quote_request", text=text,
                         link=reverse("quotes:detail", args=[quote.pk]), now=now)


# --- Request (public form or espace client) -----------------------------------------------------

@transaction.atomic
def quote_request(*, name: str, email: str, phone: str = "", company: str = "",
                  customer_kind: str = CustomerKind.PRO, sector: str = "", needs: str = "",
                  expected_volume: str = "", hours: str = "", user: Actor | None = None,
                  account: ClientAccount | None = None, consent_text: str = "") -> Quote:
    """A request becomes a quote in status "demande", answered within 48 business hours.

    `account`: the logged-in client's account (the caller checked the membership)."""
    errors: dict[str, list[str]] = {}
    if not name.strip():
        errors["name"] = [_("Indiquez votre nom.")]
    if not email.strip():
        errors["email"] = [_("Indiquez votre adresse e-mail.")]
    if customer_kind not in CustomerKind.values:
        errors["customer_kind"] = [_("Choisissez professionnel ou particulier.")]
    if sector and sector not in Sector.values:
        errors["sector"] = [_("Secteur inconnu.")]
    if not needs.strip():
        errors["needs"] = [_("Décrivez vos besoins.")]
    if errors:
        raise invalid_fields(errors)
    now = clock.now()
    requester = user if isinstance(user, User) else None  # not anonymous
    quote = Quote.objects.create(
        reference=reference_next("DV", now), account=account, status=QuoteStatus.REQUESTED,
        requester_name=name.strip()[:150], requester_email=email.strip().lower(),
        requester_phone=phone.strip()[:30], company=company.strip()[:200],
        customer_kind=customer_kind, sector=sector, needs=needs.strip(),
        expected_volume=expected_volume.strip()[:120], hours=hours.strip()[:200],
        token=_new_token(), requested_by=requester,
        response_due_at=operator_deadline(now, RESPONSE_BUSINESS_HOURS))
    _record(quote, "", QuoteStatus.REQUESTED, requester, now)
    audit_record(actor=requester, action=Action.CREATE, target=quote,
                 account=account, actor_label="" if requester else quote.requester_email,
                 changes={"reference": quote.reference, "consent_text": consent_text,
                          "consent_at": now.isoformat()})
    _notify_staff(quote, now)
    quote_email(quote, "acknowledgement", due=_format_due(quote.response_due_at))
    return quote


# --- Staff: create, edit, send, cancel, duplicate, link --------------------------------------

REQUESTER_FIELDS = ("requester_name", "requester_email", "requester_phone", "company",
                    "customer_kind", "sector", "needs", "expected_volume", "hours")
HEADER_FIELDS = (*REQUESTER_FIELDS, "message", "valid_until")


def _clean_header(data: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    clean = {k: v for k, v in data.items() if k in HEADER_FIELDS}
    errors: dict[str, list[str]] = {}
    for key in ("requester_name", "requester_email"):
        if (creating or key in clean) and not str(clean.get(key) or "").strip():
            errors[key] = [_("Ce champ est obligatoire.")]
    if "requester_email" in clean:
        clean["requester_email"] = str(clean["requester_email"] or "").strip().lower()
    if clean.get("customer_kind") not in (None, *CustomerKind.values):
        errors["customer_kind"] = [_("Choisissez professionnel ou particulier.")]
    if clean.get("sector") not in (None, "", *Sector.values):
        errors["sector"] = [_("Secteur inconnu.")]
    valid_until = clean.get("valid_until")
    if valid_until is not None and not isinstance(valid_until, date):
        errors["valid_until"] = [_("Date invalide.")]
    elif valid_until is not None and valid_until < today():
        errors["valid_until"] = [_("La date de validité est déjà passée.")]
    if errors:
        raise invalid_fields(errors)
    return clean


@transaction.atomic
def quote_create(*, actor: User, data: dict[str, Any], lines: list[QuoteLineInput] | None = None,
                 account: ClientAccount | None = None) -> Quote:
    """A quote built by staff from scratch (status "brouillon")."""
    _require_manager(actor)
    if account is not None:
        data = {"requester_name": account.legal_name or account.name,
                "requester_email": account.billing_email,
                "company": account.legal_name or account.name,
                "customer_kind": account.kind, **{k: v for k, v in data.items() if v}}
    clean = _clean_header(data, creating=True)
    lines = lines or []
    validate_lines(lines)
    now = clock.now()
    clean.setdefault("valid_until", today() + timedelta(days=DEFAULT_VALIDITY_DAYS))
    quote = Quote(reference=reference_next("DV", now), account=account,
                  status=QuoteStatus.DRAFT, token=_new_token(), created_by=_actor_or_none(actor),
                  **clean)
    quote.save()
    _write_lines(quote, lines)
    quote.save(update_fields=["total_ht_cents", "total_vat_cents", "total_ttc_cents"])
    _record(quote, "", QuoteStatus.DRAFT, actor, now)
    audit_record(actor=actor, action=Action.CREATE, target=quote, account=account,
                 changes={"reference": quote.reference, "total_ttc_cents": quote.total_ttc_cents})
    return quote


@transaction.atomic
def quote_save(*, actor: User, quote: Quote, data: dict[str, Any],
               lines: list[QuoteLineInput]) -> Quote:
    """The editor: header fields and the whole set of lines. A request becomes a draft."""
    _require_manager(actor)
    quote = _lock(quote)
    if quote.status not in EDITABLE_STATUSES:
        raise DomainError("not_editable", _("Ce devis n'est plus modifiable : repassez-le en "
                                            "brouillon pour le changer."), status=409)
    clean = _clean_header(data, creating=False)
    validate_lines(lines)
    before = {"total_ttc_cents": quote.total_ttc_cents, "lines": quote.lines.count()}
    for key, value in clean.items():
        setattr(quote, key, value)
    if quote.valid_until is None:
        quote.valid_until = today() + timedelta(days=DEFAULT_VALIDITY_DAYS)
    _write_lines(quote, lines)
    if quote.created_by_id is None:
        quote.created_by = _actor_or_none(actor)
    quote.save()
    if quote.status == QuoteStatus.REQUESTED:
        quote = transition(QUOTE_MACHINE, instance=quote, to=QuoteStatus.DRAFT,
                           actor=actor).instance
    audit_record(actor=actor, action=Action.UPDATE, target=quote,
                 account=quote.account,
                 changes={"total_ttc_cents": [before["total_ttc_cents"], quote.total_ttc_cents],
                          "lines": [before["lines"], len(lines)]})
    return quote


QUOTE_MACHINE: Machine[Quote] = Machine(
    model=Quote, transitions=QUOTE_TRANSITIONS, history_model=QuoteStatusChange,
    history_fk="quote", status_choices=QuoteStatus,
    error_message=lambda: _("Impossible de passer ce devis de « %(a)s » à « %(b)s »."))


def _stamp(quote: Quote, previous: str, to: str, actor: User | None, now: datetime) -> None:
    if to == QuoteStatus.SENT:
        quote.sent_at = now
        quote.reminded_at = None
    elif to == QuoteStatus.ACCEPTED:
        quote.accepted_at = now


@transaction.atomic
def quote_transition(*, quote: Quote | int, to: str, actor: User | None = None, note: str = "",
                     actor_label: str = "") -> Quote:
    """Move `quote` to `to` (validated against QUOTE_TRANSITIONS), or raise DomainError."""
    moved = transition(QUOTE_MACHINE, instance=quote, to=to, actor=actor, note=note,
                       stamp=_stamp, same_is_noop=False)
    audit_record(actor=_actor_or_none(actor), action=Action.UPDATE,
                 target=moved.instance, account=moved.instance.account,
                 actor_label=actor_label, changes={"status": [moved.previous, to]})
    return moved.instance


@transaction.atomic
def quote_send(*, actor: User, quote: Quote) -> Quote:
    """"Envoyer": status envoyé, e-mail with the PDF and the link (after commit)."""
    _require_manager(actor)
    quote = _lock(quote)
    if not QUOTE_MACHINE.can(quote.status, QuoteStatus.SENT):
        raise DomainError("invalid_transition", _("Ce devis ne peut pas être envoyé dans son "
                                                  "état actuel."), status=409)
    errors: dict[str, list[str]] = {}
    if not quote.lines.exists():
        errors["lines"] = [_("Ajoutez au moins une ligne avant d'envoyer le devis.")]
    if not quote.requester_email:
        errors["requester_email"] = [_("Indiquez l'adresse e-mail du destinataire.")]
    if quote.valid_until is None:
        quote.valid_until = today() + timedelta(days=DEFAULT_VALIDITY_DAYS)
        quote.save(update_fields=["valid_until"])
    elif quote.valid_until < today():
        errors["valid_until"] = [_("La date de validité est passée : choisissez une date "
                                   "future avant d'envoyer le devis.")]
    if errors:
        raise invalid_fields(errors)
    quote = quote_transition(quote=quote, to=QuoteStatus.SENT, actor=actor)
    pk = quote.pk
    transaction.on_commit(lambda: send_quote.enqueue(pk))
    return quote


@transaction.atomic
def quote_cancel(*, actor: User, quote: Quote, note: str = "") -> Quote:
    _require_manager(actor)
    return quote_transition(quote=quote, to=QuoteStatus.CANCELLED, actor=actor, note=note)


@transaction.atomic
def quote_reopen(*, actor: User, quote: Quote) -> Quote:
    """Back to draft (a sent, expired or declined quote), to change it and send it again."""
    _require_manager(actor)
    return quote_transition(quote=quote, to=QuoteStatus.DRAFT, actor=actor)


@transaction.atomic
def quote_duplicate(*, actor: User, quote: Quote) -> Quote:
    """A new draft with the same requester and lines (new reference, new link, new validity)."""
    _require_manager(actor)
    data = {key: getattr(quote, key) for key in REQUESTER_FIELDS}
    data["message"] = quote.message
    lines = [QuoteLineInput(label=line.label, quantity=line.quantity,
                            unit_price_cents=line.unit_price_cents, vat_rate=line.vat_rate,
                            discount_percent=line.discount_percent, recurring=line.recurring,
                            offer=line.offer) for line in quote.lines.select_related("offer")]
    copy = quote_create(actor=actor, data=data, lines=lines)
    if quote.account_id:
        Quote.objects.filter(pk=copy.pk).update(account_id=quote.account_id)
        copy.account_id = quote.account_id
    QuoteStatusChange.objects.filter(quote=copy).update(
        note=_("Copie de %(ref)s") % {"ref": quote.reference})
    return copy


@transaction.atomic
def quote_link_account(*, actor: User, quote: Quote, account: ClientAccount | None) -> Quote:
    _require_manager(actor)
    quote = _lock(quote)
    if quote.status in (QuoteStatus.ACCEPTED, QuoteStatus.CANCELLED):
        raise DomainError("not_editable", _("Ce devis est clos : son compte client ne peut "
                                            "plus changer."), status=409)
    previous = quote.account_id
    quote.account = account
    quote.save(update_fields=["account", "updated_at"])
    audit_record(actor=actor, action=Action.UPDATE, target=quote, account=account,
                 changes={"account": [previous, account.pk if account else None]})
    return quote


# --- Client side: decline, accept -------------------------------------------------------------

def _check_answerable(quote: Quote) -> None:
    if quote.status == QuoteStatus.EXPIRED or (quote.status == QuoteStatus.SENT
                                               and is_expired(quote)):
        raise DomainError("expired", _("Ce devis a expiré le %(date)s : demandez-nous un "
                                       "nouveau devis.") % {
            "date": formats.date_format(quote.valid_until, "j F Y")
            if quote.valid_until else "—"}, status=409)
    if quote.status != QuoteStatus.SENT:
        messages = {
            QuoteStatus.REQUESTED: _("Ce devis est en cours de préparation : il ne peut pas "
                                     "encore être accepté."),
            QuoteStatus.DRAFT: _("Ce devis est en cours de préparation : il ne peut pas "
                                 "encore être accepté."),
            QuoteStatus.DECLINED: _("Ce devis a été refusé."),
            QuoteStatus.CANCELLED: _("Ce devis a été annulé."),
            QuoteStatus.ACCEPTED: _("Ce devis a déjà été accepté."),
        }
        raise DomainError("not_sent", messages.get(quote.status,  # type: ignore[call-overload]
                                                   _("Ce devis ne peut pas être accepté.")),
                          status=409)


@transaction.atomic
def quote_decline(*, quote: Quote, user: Actor | None = None, reason: str = "") -> Quote:
    quote = _lock(quote)
    _check_answerable(quote)
    actor = user if isinstance(user, User) else None  # not anonymous
    return quote_transition(quote=quote, to=QuoteStatus.DECLINED, actor=actor,
                            note=reason.strip()[:300],
                            actor_label="" if actor else quote.requester_email)


def account_for_requester(*, quote: Quote, billing_address: str,
                          password: str | None = None) -> tuple[ClientAccount, User]:
    """A new client account (prospect) and its titulaire's login, from the request details.

    Without `password` the login has none yet (the client sets one with "mot de passe
    oublié")."""
    email = quote.requester_email
    kind = (AccountKind.INDIVIDUAL if quote.customer_kind == CustomerKind.CONSUMER
            else AccountKind.PROFESSIONAL)
    account = prospect_account_create(
        name=quote.company or quote.requester_name, kind=kind,
        sector=quote.sector if quote.sector in Sector.values else Sector.OTHER,
        legal_name=quote.company, billing_address=billing_address, billing_email=email)
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        user = client_login_create(email=email, full_name=quote.requester_name,
                                   phone=quote.requester_phone, password=password)
    owner_membership_create(user=user, account=account)
    audit_record(actor=None, action=Action.CREATE, target=account,
                 actor_label=email, changes={"name": account.name, "quote": quote.reference})
    return account, user


def requester_needs_login(quote: Quote, user: Actor) -> bool:
    """True when accepting will create the requester's login (no account on the quote, no
    logged-in client, nobody with that e-mail): the acceptance form asks for a password."""
    if quote.account_id or (isinstance(user, User) and user.role == Role.CLIENT):
        return False
    return not User.objects.filter(email__iexact=quote.requester_email).exists()


def _account_and_buyer(quote: Quote, user: Actor | None, billing_address: str,
                       password: str | None = None) -> tuple[ClientAccount, User | None]:
    logged_client = (user if isinstance(user, User) and user.is_active
                     and user.role == Role.CLIENT else None)
    if quote.account_id:
        account = ClientAccount.objects.get(pk=quote.account_id)
        members = User.objects.filter(memberships__account=account, role=Role.CLIENT)
        if logged_client is not None and members.filter(pk=logged_client.pk).exists():
            return account, logged_client
        return account, members.filter(email__iexact=quote.requester_email).first()
    if logged_client is not None:
        own = ClientAccount.objects.filter(memberships__user=logged_client).order_by("pk").first()
        if own is not None:
            return own, logged_client
    existing = User.objects.filter(email__iexact=quote.requester_email).first()
    if existing is not None:
        own = ClientAccount.objects.filter(memberships__user=existing).order_by("pk").first()
        if existing.role == Role.CLIENT and own is not None:
            return own, existing
        if existing.role != Role.CLIENT or existing != logged_client:
            raise DomainError("login_required", _(
                "Un compte existe déjà avec l'adresse %(email)s : connectez-vous avec cette "
                "adresse pour accepter le devis.") % {"email": quote.requester_email},
                status=409)
    return account_for_requester(quote=quote, billing_address=billing_address,
                                 password=password)


def quote_line_specs(quote: Quote) -> list[LineSpec]:
    """The quote's lines as order lines: monthly lines are due now (first month) and then
    every month; the discount applies to both."""
    return [LineSpec(label=line.label, quantity=line.quantity,
                     unit_price_cents=line.unit_price_cents, vat_rate=line.vat_rate,
                     discount_percent=line.discount_percent,
                     recurring_cents=line.unit_price_cents if line.recurring else 0,
                     offer=line.offer)
            for line in quote.lines.select_related("offer").order_by("position", "pk")]


@transaction.atomic
def quote_accept(*, quote: Quote, user: Actor | None = None, terms_accepted: bool,
                 billing_address: str, terms: TermsVersion | None = None,
                 password: str | None = None) -> Order:
    """Accept online: the quote becomes an order awaiting payment (idempotent: accepting an
    accepted quote again returns its order)."""

    quote = _lock(quote)
    if quote.status == QuoteStatus.ACCEPTED:
        existing = quote.orders.order_by("pk").first()
        if existing is not None:
            return existing
    _check_answerable(quote)
    errors: dict[str, list[str]] = {}
    if not terms_accepted:
        errors["accept_terms"] = [_("Cochez la case pour accepter les conditions générales "
                                    "de vente.")]
    if not billing_address.strip():
        errors["billing_address"] = [_("Indiquez l'adresse de facturation.")]
    if errors:
        raise invalid_fields(errors)
    terms = terms or current_terms()
    if terms is None:
        raise DomainError("no_terms", _("Les conditions générales de vente ne sont pas "
                                        "publiées : le devis ne peut pas être accepté en "
                                        "ligne pour le moment."), status=409)
    lines = quote_line_specs(quote)
    if not lines:
        raise invalid(lines=_("Ce devis ne contient aucune ligne."))
    account, buyer = _account_and_buyer(quote, user, billing_address.strip(), password)
    actor = user if isinstance(user, User) else buyer  # anonymous: the buyer found or created
    order = order_create(
        account=account, buyer=buyer, lines=lines,
        billing={"name": quote.requester_name, "legal_name": quote.company or account.legal_name,
                 "siret": account.siret, "vat_number": account.vat_number,
                 "address": billing_address.strip(),
                 "email": account.billing_email or quote.requester_email,
                 "phone": quote.requester_phone},
        customer_kind=quote.customer_kind, terms=terms, quote=quote, actor=actor,
        accepted=[terms_acceptance(terms)])
    if quote.account_id != account.pk:
        quote.account = account
        quote.save(update_fields=["account", "updated_at"])
    quote_transition(quote=quote, to=QuoteStatus.ACCEPTED, actor=actor,
                     note=_("Commande %(ref)s") % {"ref": order.reference},
                     actor_label="" if actor else quote.requester_email)
    return order


# --- Reminders and expiry (scheduler) ---------------------------------------------------------

def quotes_housekeeping(now: datetime | None = None) -> dict[str, int]:
    """Expire sent quotes past their validity; remind once, N days before it ends."""
    now = now or clock.now()
    day = timezone.localdate(now)

    def expire(pk: int) -> bool:
        try:
            quote_transition(quote=pk, to=QuoteStatus.EXPIRED,
                             note=_("Date de validité dépassée"), actor_label="scheduler")
        except DomainError:  # accepted or changed meanwhile
            return False
        return True

    # One quote's failure is logged and skipped: the others still expire / are reminded.
    expired = each_isolated(list(Quote.objects.filter(
        status=QuoteStatus.SENT, valid_until__lt=day).values_list("pk", flat=True)), expire,
        job="shop.quotes_housekeeping expiry").count(True)
    # Not the day it was sent: a quote sent with a short validity gets no immediate reminder.
    due = Quote.objects.filter(status=QuoteStatus.SENT, reminded_at__isnull=True,
                               sent_at__lte=now - timedelta(days=1), valid_until__gte=day,
                               valid_until__lte=day + timedelta(days=REMINDER_DAYS_BEFORE))

    def remind(pk: int) -> bool:
        # Claimed by a conditional UPDATE: two schedulers never remind twice.
        claimed = Quote.objects.filter(pk=pk, status=QuoteStatus.SENT,
                                       reminded_at__isnull=True).update(reminded_at=now)
        if not claimed:
            return False
        quote = Quote.objects.select_related("requested_by").get(pk=pk)
        quote_email(quote, "reminder")
        return True

    reminded = each_isolated(list(due.values_list("pk", flat=True)), remind,
                             job="shop.quotes_housekeeping reminders").count(True)
    return {"expired": expired, "reminded": reminded}
