from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from permanence.audit.services import audit_view
from permanence.core.access import AuthedHttpRequest
from permanence.core.errors import Forbidden

from . import permissions, selectors, services
from .models import AccountKind, AccountStatus, ClientAccount, ContactChannel, Sector, User

router = Router(tags=["comptes"])


class MeOut(Schema):
    id: int
    email: str
    full_name: str
    role: str
    is_staff_member: bool
    accounts: list[int]


class AccountOut(Schema):
    id: int
    slug: str
    name: str
    kind: AccountKind
    sector: Sector
    status: AccountStatus
    is_operator: bool
    legal_name: str
    siret: str
    vat_number: str
    billing_address: str
    billing_email: str
    assigned_agents: list[int]
    email_addresses: list[str]
    phone_numbers: list[str]
    created_at: Any
    updated_at: Any

    @staticmethod
    def resolve_assigned_agents(obj: ClientAccount) -> list[int]:
        # Reads the prefetched set: no query per row.
        return sorted(u.pk for u in obj.assigned_agents.all())

    @staticmethod
    def resolve_email_addresses(obj: ClientAccount) -> list[str]:
        return sorted(c.value for c in obj.channels.all() if c.kind == ContactChannel.Kind.EMAIL)

    @staticmethod
    def resolve_phone_numbers(obj: ClientAccount) -> list[str]:
        return sorted(c.value for c in obj.channels.all() if c.kind == ContactChannel.Kind.PHONE)


class AccountPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[AccountOut]


class AccountIn(Schema):
    name: str = Field(..., min_length=1, max_length=200)
    slug: str = Field("", max_length=80)
    kind: AccountKind = AccountKind.PROFESSIONAL
    sector: Sector = Sector.OTHER
    status: AccountStatus = AccountStatus.PROSPECT
    legal_name: str = Field("", max_length=200)
    siret: str = Field("", max_length=20)
    vat_number: str = Field("", max_length=20)
    billing_address: str = ""
    billing_email: str = ""
    notes: str = ""
    assigned_agents: list[int] = []
    # Administrators only; the whole set (e-mails the inbox routes to this account).
    email_addresses: list[str] | None = Field(None, max_length=100)
    phone_numbers: list[str] | None = Field(None, max_length=100)


class AccountPatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=200)
    slug: str | None = Field(None, max_length=80)
    kind: AccountKind | None = None
    sector: Sector | None = None
    status: AccountStatus | None = None
    legal_name: str | None = Field(None, max_length=200)
    siret: str | None = Field(None, max_length=20)
    vat_number: str | None = Field(None, max_length=20)
    billing_address: str | None = None
    billing_email: str | None = None
    notes: str | None = None
    assigned_agents: list[int] | None = None
    email_addresses: list[str] | None = Field(None, max_length=100)
    phone_numbers: list[str] | None = Field(None, max_length=100)


class AccountFilters(Schema):
    q: str = ""
    status: AccountStatus | None = None
    sector: Sector | None = None
    kind: AccountKind | None = None
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0)


@router.get("/me", response=MeOut, summary="Utilisateur connecté")
def me(request: AuthedHttpRequest) -> dict[str, Any]:
    user = request.user
    return {
        "id": user.pk, "email": user.email, "full_name": user.full_name, "role": user.role,
        "is_staff_member": permissions.is_staff_member(user),
        "accounts": list(selectors.accounts_of_client(user).values_list("pk", flat=True))
        if user.is_client else [],
    }


@router.get("/accounts", response=AccountPage, summary="Comptes clients visibles")
def account_list(request: AuthedHttpRequest, filters: Query[AccountFilters]) -> dict[str, Any]:
    qs = selectors.account_list(
        request.user, q=filters.q, status=filters.status or "", sector=filters.sector or "",
        kind=filters.kind or "",
    )
    count = qs.count()
    page = list(qs.prefetch_related("assigned_agents", "channels")[
        filters.offset: filters.offset + filters.limit])
    return {"count": count, "limit": filters.limit, "offset": filters.offset, "items": page}


@router.post("/accounts", response={201: AccountOut}, summary="Créer un compte client")
def account_create(request: AuthedHttpRequest, payload: AccountIn) -> tuple[int, ClientAccount]:
    data = payload.dict()
    agents = data.pop("assigned_agents")
    channels = _pop_channels(request.user, data)
    with transaction.atomic():
        account = services.account_create(actor=request.user, data=data, agent_ids=agents)
        services.account_channels_set(actor=request.user, account=account, wanted=channels)
    return 201, _reload(account)


@router.get("/accounts/{account_id}", response=AccountOut, summary="Un compte client")
def account_detail(request: AuthedHttpRequest, account_id: int) -> ClientAccount:
    account = selectors.get_account_for_user(request.user, account_id)
    audit_view(actor=request.user, target=account)
    return _reload(account)


@router.patch("/accounts/{account_id}", response=AccountOut, summary="Modifier un compte client")
def account_patch(request: AuthedHttpRequest, account_id: int, payload: AccountPatch) -> ClientAccount:
    account = selectors.get_account_for_user(request.user, account_id, action="change")
    data = payload.dict(exclude_unset=True)
    agents = data.pop("assigned_agents", None)
    channels = _pop_channels(request.user, data)
    data = {k: v for k, v in data.items() if v is not None}

    with transaction.atomic():
        account = services.account_update(actor=request.user, account=account, data=data)
        if agents is not None:
            services.account_set_agents(actor=request.user, account=account, agent_ids=agents)
        services.account_channels_set(actor=request.user, account=account, wanted=channels)
    return _reload(account)


def _reload(account: ClientAccount) -> ClientAccount:
    return ClientAccount.objects.prefetch_related("assigned_agents", "channels").get(
        pk=account.pk)


# --- Contact channels (email_addresses / phone_numbers), administrators only ------------------

CHANNEL_FIELDS = services.CHANNEL_FIELDS


def _pop_channels(user: User, data: dict[str, Any]) -> dict[str, list[str]]:
    """Take the channel lists out of `data`; sending any of them needs an administrator."""
    wanted = {name: data.pop(name) for name in CHANNEL_FIELDS if name in data}
    wanted = {name: values for name, values in wanted.items() if values is not None}
    if wanted and not permissions.can_manage_staff(user):
        raise Forbidden(_("Seuls les administrateurs modifient les adresses e-mail et les "
                          "numéros d'un compte."))
    return wanted
