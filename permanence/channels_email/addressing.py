"""Which account an address reaches, and the addresses we write from.

An account's e-mail addresses are its `ContactChannel(kind="email")` rows (lower-cased,
unique across accounts). Each conversation also has a reply address
`<local>+<reply_token>@<domain>` built on the account's address: replies to it thread back
even when the customer's mail client drops In-Reply-To and the subject.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import parseaddr

from django.conf import settings

from permanence.accounts.models import ClientAccount, ContactChannel
from permanence.core import local_cache
from permanence.inbox.models import Conversation


@dataclass(frozen=True)
class Route:
    """Where an envelope recipient leads: an account, maybe a conversation's reply token."""

    account_id: int
    address: str
    token: str = ""


def normalize(address: str) -> str:
    return (address or "").strip().strip("<>").strip().lower()


def split(address: str) -> tuple[str, str]:
    local, _at, domain = normalize(address).rpartition("@")
    return local, domain


def route_for(address: str) -> Route | None:
    """The account reached by an envelope recipient, or None (unknown: refuse it)."""
    address = normalize(address)
    local, domain = split(address)
    if not local or not domain:
        return None
    account_id = _account_id_for(address)
    if account_id is not None:
        return Route(account_id=account_id, address=address)
    # Sub-addressing: the part after the last "+" is a conversation's reply token. A token
    # that matches nothing still reaches the account (plus-addressing is common and a mail
    # must never bounce for it); threading then falls back to headers and subject.
    base_local, plus, token = local.rpartition("+")
    if not plus or not base_local:
        return None
    account_id = _account_id_for(f"{base_local}@{domain}")
    if account_id is None:
        return None
    return Route(account_id=account_id, address=address, token=token)


def route_cached(address: str) -> Route | None:
    """`route_for` answered from this process's cache alone, without touching the database
    (callable from the gateway's event loop): an address that reaches an account as it is.
    None when not cached, and for sub-addresses (the full address must be looked up first)."""
    address = normalize(address)
    account_id = _cached_account_id_for(address)
    return Route(account_id=account_id, address=address) if account_id is not None else None


# Addresses known to reach an account, per process (core.local_cache): RCPT TO is answered
# without a database round trip for the addresses mail keeps coming to. A change made in this
# process is seen at once; another process's after LOCAL_CACHE_SECONDS at most (an address
# removed elsewhere may still be accepted meanwhile: the mail is then stored for the account
# that had it, or deferred with a 451 if that account is gone). Unknown addresses are not
# cached: a new account's address is never refused (550 is permanent) for having been tried
# a moment too early.
local_cache.watch("accounts.ContactChannel")
_ACCOUNT_BY_ADDRESS = local_cache.LocalCache("email_routes")


class _Unknown(Exception):
    """Raised out of the cache's compute so that a miss is not remembered."""


def _account_id_for(address: str) -> int | None:
    try:
        return _ACCOUNT_BY_ADDRESS.get_or_compute(address, lambda: _lookup(address))
    except _Unknown:
        return None


def _cached_account_id_for(address: str) -> int | None:
    try:
        return _ACCOUNT_BY_ADDRESS.get_or_compute(address, _not_cached)
    except _Unknown:
        return None


def _not_cached() -> int:
    raise _Unknown


def _lookup(address: str) -> int:
    account_id = (ContactChannel.objects.filter(kind=ContactChannel.Kind.EMAIL, value=address)
                  .order_by().values_list("account_id", flat=True).first())
    if account_id is None:
        raise _Unknown(address)
    return account_id


def account_address(account: ClientAccount) -> str:
    """The account's main e-mail address (its first e-mail channel), or "" if none."""
    value = (ContactChannel.objects.filter(account=account, kind=ContactChannel.Kind.EMAIL)
             .order_by("pk").values_list("value", flat=True).first())
    return value or ""


def default_from_address() -> str:
    return parseaddr(settings.DEFAULT_FROM_EMAIL)[1]


def domain_of(address: str) -> str:
    return split(address)[1] or split(default_from_address())[1] or "localhost"


def reply_address(conversation: Conversation, base: str | None = None) -> str:
    """`<local>+<token>@<domain>` on the account's address; "" when the account has none
    (a reply-to on an address we do not receive would only lose the answer)."""
    base = account_address(conversation.account) if base is None else base
    local, domain = split(base)
    if not local or not domain:
        return ""
    return f"{local}+{conversation.reply_token}@{domain}"
