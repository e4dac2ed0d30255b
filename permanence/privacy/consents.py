"""Consentements: every consent the platform recorded — contact form, chat, online booking,
checkout —, read through each owning app's selector (core.consent rows) as one list,
newest first, paginated in the database (a UNION ALL of the apps' rows), with whether the
person withdrew it since (an executed objection, privacy's own record).

A page costs the same few queries whatever its rows: the count, the page, the objections
of the people on it (the accounts' names come from the filter's list)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any, cast

from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from permanence.accounts.permissions import Actor
from permanence.accounts.selectors import accounts_visible_to
from permanence.agenda.selectors import consent_rows as booking_rows
from permanence.channels_webform.selectors import consent_rows as contact_form_rows
from permanence.core import consent
from permanence.core.counting import CappedPaginator
from permanence.livechat.selectors import consent_rows as chat_rows
from permanence.shop.selectors import consent_rows as checkout_rows

from .models_requests import RequestKind, RequestStatus, SubjectRequest

SOURCES: dict[str, tuple[Any, Callable[..., QuerySet[Any]]]] = {
    consent.CONTACT_FORM: (_("Formulaire de contact"), contact_form_rows),
    consent.CHAT: (_("Chat"), chat_rows),
    consent.BOOKING: (_("Réservation en ligne"), booking_rows),
    consent.CHECKOUT: (_("Commande en ligne"), checkout_rows),
}
PURPOSES = {
    consent.PURPOSE_REQUEST: _("Traitement de la demande écrite"),
    consent.PURPOSE_CHAT: _("Discussion par chat"),
    consent.PURPOSE_BOOKING: _("Gestion du rendez-vous"),
    consent.PURPOSE_TERMS: _("Conditions générales de vente"),
    consent.PURPOSE_PRIVACY: _("Politique de confidentialité"),
}
# Accepting the CGV or reading the privacy notice is part of a contract, not a consent one
# withdraws (art. 6.1.b): an objection does not undo it.
CONTRACTUAL = {consent.PURPOSE_TERMS, consent.PURPOSE_PRIVACY}


def consents(*, user: Actor, account_id: int | None = None, source: str = "",
             email: str = "", phone: str = "") -> QuerySet[Any]:
    """The consents `user` may read (those of the accounts it sees), newest first; of one
    account, source, e-mail address or phone number (E.164) when given."""
    accounts = accounts_visible_to(user)
    if account_id is not None:
        accounts = accounts.filter(pk=account_id)
    ids = accounts.values("pk")
    parts = [rows(accounts=ids, email=email, phone=phone)
             for key, (_label, rows) in SOURCES.items() if not source or key == source]
    first, *rest = parts
    combined = first.union(*rest, all=True) if rest else first
    return combined.order_by("-c_at", "c_source", "-c_ref")


class ConsentPaginator(CappedPaginator[Any]):
    """Counts the UNION as it is (its rows have no `pk` to count), up to the cap."""

    @cached_property
    def count(self) -> int:
        rows = cast(QuerySet[Any], self.object_list)
        return rows[:self.cap + 1].count()


@dataclass(frozen=True)
class Row:
    source: str
    source_label: Any
    account_id: int
    account: str
    name: str
    email: str
    phone: str
    purpose: Any
    version: str
    text: str
    at: datetime
    url: str
    withdrawn_at: datetime | None
    withdrawable: bool
    terms_url: str


def _url(source: str, pk: int) -> str:
    if source == consent.CONTACT_FORM:
        return reverse("inbox:detail", args=[pk])
    if source == consent.CHAT:
        return reverse("livechat:console") + f"?chat={pk}"
    if source == consent.BOOKING:
        return reverse("agenda:appointment", args=[pk])
    return reverse("orders:detail", args=[pk])


def _objections(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The executed objections that may concern the people of `rows` (one query)."""
    emails = {r["c_email"].lower() for r in rows if r["c_email"]}
    phones = {r["c_phone"] for r in rows if r["c_phone"]}
    if not emails and not phones:
        return []
    return [dict(o) for o in SubjectRequest.objects.filter(
        kind=RequestKind.OBJECTION, status=RequestStatus.DONE).filter(
        Q(contact__email__in=emails) | Q(contact__phone__in=phones)
        | Q(requester_email__in=emails)).values(
        "contact__account_id", "contact__email", "contact__phone", "requester_email",
        "account_id", "executed_at")]


def _withdrawn_at(row: dict[str, Any], objections: Iterable[dict[str, Any]]) -> datetime | None:
    """When the person objected after consenting (the first objection that matches): a
    contact of the same account with the same address or number, or a request made by that
    address (about that account, or about no account in particular)."""
    email = (row["c_email"] or "").lower()
    phone = row["c_phone"] or ""
    found: datetime | None = None
    for o in objections:
        at = o["executed_at"]
        if at is None or at < row["c_at"]:
            continue
        same_contact = o["contact__account_id"] == row["c_account"] and (
            (email and (o["contact__email"] or "").lower() == email)
            or (phone and o["contact__phone"] == phone))
        same_requester = bool(email) and (o["requester_email"] or "").lower() == email and (
            o["account_id"] in (None, row["c_account"]))
        if (same_contact or same_requester) and (found is None or at < found):
            found = at
    return found


def page_rows(rows: list[dict[str, Any]], account_names: dict[int, str]) -> list[Row]:
    objections = _objections(rows)
    out = []
    for r in rows:
        source = r["c_source"]
        withdrawable = r["c_purpose"] not in CONTRACTUAL
        out.append(Row(
            source=source, source_label=SOURCES[source][0], account_id=r["c_account"],
            account=account_names.get(r["c_account"], ""), name=r["c_name"] or "",
            email=r["c_email"] or "", phone=r["c_phone"] or "",
            purpose=PURPOSES.get(r["c_purpose"], r["c_purpose"]), version=r["c_version"] or "",
            text=r["c_text"] or "", at=r["c_at"], url=_url(source, r["c_object"]),
            withdrawn_at=_withdrawn_at(r, objections) if withdrawable else None,
            withdrawable=withdrawable,
            terms_url=(reverse("site:terms_version", args=[r["c_version"]])
                       if r["c_purpose"] == consent.PURPOSE_TERMS and r["c_version"] else "")))
    return out
