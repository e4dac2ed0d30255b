"""Consignes over the API: read the version in force (with the greeting rendered), save a new
version (the same cleaning, field errors and notifications as the pages), list the versions,
confirm reading. Visibility is the accounts' (a client its own accounts, an agent those
assigned to them): another account is a 404."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _
from ninja import Field, Router, Schema

from permanence.core.access import AuthedHttpRequest
from permanence.core.errors import DomainError

from . import consignes
from .models import ConsigneVersion
from .permissions import can_supervise_desk

router = Router(tags=["consignes"])


class ConsignesIn(Schema):
    content: dict[str, Any] = Field(..., description="La fiche complète (voir desk.models)")
    summary: str = Field("", max_length=500, description="Résumé ; vide : écrit d'après "
                                                         "les changements")


class VersionOut(Schema):
    number: int
    created_at: datetime
    author: str | None
    by_client: bool
    summary: str


class ConsignesOut(Schema):
    account: int
    version: VersionOut | None
    content: dict[str, Any]
    greeting: str = Field(..., description="Le script d'accueil rendu ({compte}, {horaires})")
    unread_by: list[str] | None = Field(
        None, description="Télésecrétaires affectées qui n'ont pas lu la version en vigueur "
                          "(superviseurs seulement)")


class ReadIn(Schema):
    version: int = Field(..., description="Le numéro de la version lue (celle en vigueur)")


class ReadOut(Schema):
    version: int
    read_at: datetime


def _version(v: ConsigneVersion, summary: str) -> dict[str, Any]:
    return {"number": v.number, "created_at": v.created_at, "by_client": v.by_client,
            "author": v.author.email if v.author else None, "summary": summary}


def _out(request: AuthedHttpRequest, account_id: int) -> dict[str, Any]:
    account = consignes.get_consigne_account(request.user, account_id)
    version = consignes.consigne_current(account)
    return {
        "account": account.pk,
        "version": _version(version, consignes.consigne_summaries(account, [version])[
            version.number]) if version else None,
        "content": consignes.consigne_content(version),
        "greeting": consignes.consigne_greeting(account, version),
        "unread_by": [u.email for u in consignes.consigne_unread_by(account)]
        if can_supervise_desk(request.user) else None,
    }


@router.get("/accounts/{account_id}/consignes", response=ConsignesOut,
            summary="Consignes en vigueur d'un compte")
def consignes_get(request: AuthedHttpRequest, account_id: int) -> dict[str, Any]:
    return _out(request, account_id)


@router.put("/accounts/{account_id}/consignes", response=ConsignesOut,
            summary="Enregistrer une nouvelle version des consignes")
def consignes_put(request: AuthedHttpRequest, account_id: int,
                  payload: ConsignesIn) -> dict[str, Any]:
    account = consignes.get_consigne_account(request.user, account_id)
    consignes.consigne_save(actor=request.user, account=account, content=payload.content,
                            summary=payload.summary)
    return _out(request, account_id)


@router.get("/accounts/{account_id}/consignes/versions", response=list[VersionOut],
            summary="Versions des consignes d'un compte (la plus récente d'abord)")
def consignes_versions(request: AuthedHttpRequest, account_id: int) -> list[dict[str, Any]]:
    account = consignes.get_consigne_account(request.user, account_id)
    versions = list(consignes.consigne_versions(account)[:200])
    summaries = consignes.consigne_summaries(account, versions)
    return [_version(v, summaries[v.number]) for v in versions]


@router.post("/accounts/{account_id}/consignes/read", response=ReadOut,
             summary="« J'ai lu ces consignes » (la version en vigueur)")
def consignes_read(request: AuthedHttpRequest, account_id: int,
                   payload: ReadIn) -> dict[str, Any]:
    account = consignes.get_consigne_account(request.user, account_id)
    version = consignes.consigne_current(account)
    if version is None or version.number != payload.version:
        raise DomainError("superseded", _("Ce n'est pas la version en vigueur des consignes."),
                          status=409)
    read = consignes.consigne_mark_read(user=request.user, version=version)
    return {"version": version.number, "read_at": read.read_at}
