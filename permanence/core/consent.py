"""Consents, as every app that asks for one records it, and as privacy lists them.

The version of a consent wording is a short hash of the text exactly as shown (after the
account's name is put in, in the language shown): a wording edited in a template, a
translation or a chat's settings gets a new version without anybody having to remember to
bump a constant, and two people who saw the same words share a version.

The apps keep their consents in their own tables (the contact form on its message, the chat
on its session, the booking on its appointment, the checkout on its order) and each exposes a
selector returning `rows(...)`: the same columns, in the same order, so that privacy can
read them all as one list (a UNION, paginated in the database)."""

from __future__ import annotations

import hashlib
from typing import Any

from django.db import models
from django.db.models import QuerySet

VERSION_LENGTH = 12

# Where a consent was given (the `source` column).
CONTACT_FORM = "formulaire"
CHAT = "chat"
BOOKING = "rdv"
CHECKOUT = "commande"

# What it was for (the `purpose` column).
PURPOSE_REQUEST = "demande"      # handle the request written in the contact form
PURPOSE_CHAT = "chat"            # chat with the account's service
PURPOSE_BOOKING = "rdv"          # manage the appointment booked
PURPOSE_TERMS = "cgv"            # the terms of sale (conditions générales de vente)
PURPOSE_PRIVACY = "confidentialite"  # the privacy notice, read before ordering

# The columns of every consent row, in this order (a UNION matches columns by position).
# Prefixed: an annotation may not bear the name of one of its model's fields.
COLUMNS = ("c_source", "c_ref", "c_object", "c_account", "c_name", "c_email", "c_phone",
           "c_purpose", "c_version", "c_text", "c_at")
_OUTPUT: dict[str, models.Field[Any, Any]] = {
    "c_source": models.CharField(), "c_ref": models.BigIntegerField(),
    "c_object": models.BigIntegerField(), "c_account": models.BigIntegerField(),
    "c_name": models.CharField(), "c_email": models.CharField(),
    "c_phone": models.CharField(), "c_purpose": models.CharField(),
    "c_version": models.CharField(), "c_text": models.TextField(),
    "c_at": models.DateTimeField(),
}


def text_version(text: str) -> str:
    """The version of a consent wording: the first 12 hex digits of the SHA-256 of the text,
    its white space collapsed (a line break moved in a template is not a new wording)."""
    normalised = " ".join(str(text).split())
    return hashlib.sha256(normalised.encode()).hexdigest()[:VERSION_LENGTH]


def rows(queryset: QuerySet[Any], **columns: Any) -> QuerySet[Any]:
    """`queryset` as consent rows: each of COLUMNS given as an expression (F(), a JSON key…)
    of the column's type, or a plain value (a literal, typed here), annotated in COLUMNS'
    order, so that the databases accept the UNION of several apps' rows.

    c_ref: the consent's own row (the message, the session…); c_object: the page to open
    (the conversation, the chat, the appointment, the order); c_at: when it was given."""
    missing = set(COLUMNS) - set(columns)
    extra = set(columns) - set(COLUMNS)
    if missing or extra:
        raise TypeError(f"consent rows: missing {sorted(missing)}, unknown {sorted(extra)}")
    annotations: dict[str, Any] = {}
    for name in COLUMNS:
        value = columns[name]
        if not hasattr(value, "resolve_expression"):
            value = models.Value(value, output_field=_OUTPUT[name])
        annotations[name] = value
    return queryset.order_by().annotate(**annotations).values(*COLUMNS)
