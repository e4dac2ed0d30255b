"""Which rows of which registered model are about the person of a request: read from the
registry (privacy/registry.py), so that a model registered tomorrow is exported and erased
without touching this module.

A row is the person's when it reaches the contact (or the account) through foreign keys — a
message through its conversation, an attachment through its message —, or, for a contact,
when one of its registered e-mail or phone fields holds the contact's address or number in
the same account (calls by phone number, appointments, SMS, chat sessions by e-mail)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from django.apps import apps
from django.db import models
from django.db.models import Q

from permanence.core.forgetting import is_email_field, is_phone_field

from . import registry
from .models_requests import RequestTarget, SubjectRequest

CONTACT_MODEL = "inbox.Contact"
ACCOUNT_MODEL = "accounts.ClientAccount"
MAX_DEPTH = 3
# Foreign keys never followed: people of the operator, not the data subject's data.
NOT_FOLLOWED = {"accounts.User"}


@dataclass(frozen=True)
class Scope:
    target: str
    account_id: int | None
    contact_id: int | None
    emails: tuple[str, ...]
    phones: tuple[str, ...]


def scope_of(request: SubjectRequest) -> Scope:
    """The person's identifiers, read once before anything is changed (an erasure blanks
    the contact's own address halfway through)."""
    emails: list[str] = []
    phones: list[str] = []
    contact = request.contact
    if request.target == RequestTarget.CONTACT and contact is not None:
        emails += [contact.email] if contact.email else []
        phones += [contact.phone] if contact.phone else []
        return Scope(RequestTarget.CONTACT, contact.account_id, contact.pk,
                     tuple(emails), tuple(phones))
    if request.target == RequestTarget.ACCOUNT and request.account_id:
        return Scope(RequestTarget.ACCOUNT, request.account_id, None, (), ())
    if request.requester_email:
        emails.append(request.requester_email)
    return Scope(RequestTarget.PERSON, None, None, tuple(emails), ())


def entries_for(scope: Scope) -> list[registry.Entry]:
    """The registered models that may hold the person's data: an account's everything but
    the operator's staff; a contact's (or a person's) what is about contacts and prospects."""
    if scope.target == RequestTarget.ACCOUNT:
        wanted = {registry.CONTACT, registry.PROSPECT, registry.CLIENT}
    else:
        wanted = {registry.CONTACT, registry.PROSPECT}
    return [e for e in registry.REGISTRY if e.subject in wanted]


@cache
def paths(model_label: str, target_label: str) -> tuple[str, ...]:
    """Every lookup from `model_label` to `target_label` through forward foreign keys
    ("" when the model is the target itself), shortest first."""
    if model_label == target_label:
        return ("",)
    found: list[str] = []

    def walk(model: type[models.Model], prefix: str, seen: frozenset[str], depth: int) -> None:
        for field in model._meta.concrete_fields:
            if not field.is_relation or field.related_model is None:
                continue
            related = field.related_model
            label = related._meta.label  # type: ignore[union-attr]
            if label in NOT_FOLLOWED or label in seen:
                continue
            lookup = f"{prefix}{field.name}"
            if label == target_label:
                found.append(lookup)
            elif depth < MAX_DEPTH:
                walk(related, f"{lookup}__", seen | {label}, depth + 1)  # type: ignore[arg-type]

    walk(apps.get_model(model_label), "", frozenset({model_label}), 1)
    return tuple(sorted(set(found), key=lambda p: (p.count("__"), p)))


def _reach(model_label: str, target_label: str, pk: int) -> Q | None:
    q: Q | None = None
    for path in paths(model_label, target_label):
        part = Q(pk=pk) if path == "" else Q(**{path: pk})
        q = part if q is None else q | part
    return q


def _identifiers(entry: registry.Entry, scope: Scope) -> Q | None:
    model = apps.get_model(entry.model)
    q: Q | None = None
    for name in entry.fields:
        field = model._meta.get_field(name)
        if not isinstance(field, models.CharField):
            continue
        values = (scope.emails if is_email_field(field)
                  else scope.phones if is_phone_field(field) else ())
        for value in values:
            part = Q(**{f"{name}__iexact": value})
            q = part if q is None else q | part
    return q


def queryset(entry: registry.Entry, scope: Scope) -> models.QuerySet[Any] | None:
    """The entry's rows about the person (each once), or None when the model cannot be tied
    to it."""
    model = apps.get_model(entry.model)
    q: Q | None = None
    if scope.target == RequestTarget.ACCOUNT:
        if scope.account_id is None:
            return None
        q = _reach(entry.model, ACCOUNT_MODEL, scope.account_id)
    else:
        if scope.contact_id is not None:
            q = _reach(entry.model, CONTACT_MODEL, scope.contact_id)
        ids = _identifiers(entry, scope)
        if ids is not None:
            if scope.account_id is not None:
                # A contact belongs to one account: the same number elsewhere is someone
                # else's business (and a model that names no account is not matched).
                in_account = _reach(entry.model, ACCOUNT_MODEL, scope.account_id)
                ids = None if in_account is None else ids & in_account
            if ids is not None:
                q = ids if q is None else q | ids
    if q is None:
        return None
    matching = model._default_manager.filter(q).values("pk")
    return model._default_manager.filter(pk__in=matching).order_by("pk")
