"""The one signature of outgoing replies, added in one place (services.conversation_reply and
every other reply the inbox writes) and only when the text does not already end with it: a
canned reply ending with the agent's or the account's name is not signed twice."""

from __future__ import annotations

import re

from permanence.accounts.models import ClientAccount

_DASHES = re.compile(r"^[\s—–\-]+")


def signature_for(account: ClientAccount, author: object | None) -> str:
    """The closing lines of an agent's reply. An account may carry its own
    `email_signature` (with an optional {agent} placeholder); otherwise: agent + account."""
    agent = _agent_name(author)
    custom = (getattr(account, "email_signature", "") or "").strip()
    if custom:
        return custom.replace("{agent}", agent)
    return "\n".join([f"— {agent}" if agent else "—", account.name])


def _agent_name(author: object | None) -> str:
    if author is None:
        return ""
    return str(getattr(author, "full_name", "") or getattr(author, "email", "") or "")


def _norm(line: str) -> str:
    return " ".join(_DASHES.sub("", line).split()).casefold()


def is_signed(body: str, *, account: ClientAccount, author: object | None) -> bool:
    """Whether `body` already ends with a signature: the signature itself, or a last line
    (or the one before) naming the agent or the account."""
    lines = [_norm(line) for line in body.splitlines() if line.strip()]
    if not lines:
        return False
    signature = [_norm(line) for line in signature_for(account, author).splitlines()
                 if _norm(line)]
    if signature and lines[-len(signature):] == signature:
        return True
    names = {_norm(account.name), _norm(_agent_name(author))} - {""}
    return any(line in names for line in lines[-2:])


def signed(body: str, *, account: ClientAccount, author: object | None) -> str:
    """`body` with the signature appended, unless it already ends with one."""
    text = body.rstrip()
    if is_signed(text, account=account, author=author):
        return text
    return f"{text}\n\n{signature_for(account, author)}"
