"""Who sells and who buys, as printed on an invoice: snapshots taken at issue, so that an
archived invoice keeps the identities it was issued with.

Shape (both): {"name", "legal_name", "siren", "siret", "vat_number", "email",
"address": {"line1", "line2", "postcode", "city", "country"}}; the seller adds "iban"; the
buyer adds "is_business" (a SIREN or SIRET, or a company name: B2B mentions apply)."""

from __future__ import annotations

import re
from typing import Any

from permanence.accounts.models import ClientAccount, OperatorIdentity

_POSTCODE_CITY = re.compile(r"^\s*(\d{5})\s+(.+?)\s*$")


def address(text: str) -> dict[str, str]:
    """Free text ("12 rue X\\nBât. B\\n69002 Lyon") → structured parts. The line with a
    French postcode gives postcode and city; the lines before it are the street."""
    lines = [ln.strip() for ln in (text or "").replace("\r", "").split("\n") if ln.strip()]
    postcode = city = ""
    country = "FR"
    street: list[str] = []
    for ln in lines:
        found = _POSTCODE_CITY.match(ln)
        if found and not postcode:
            postcode, city = found.group(1), found.group(2)
        elif postcode and ln.casefold() in ("france", "fr"):
            continue
        elif not postcode:
            street.append(ln)
    return {"line1": street[0] if street else "", "line2": ", ".join(street[1:]),
            "postcode": postcode, "city": city, "country": country}


def seller(operator: OperatorIdentity) -> dict[str, Any]:
    siren = operator.siren or (operator.siret[:9] if operator.siret else "")
    return {"name": operator.legal_name, "legal_name": operator.legal_name, "siren": siren,
            "siret": operator.siret, "vat_number": operator.vat_number,
            "email": operator.support_email, "phone": operator.support_phone,
            "address": address(operator.address), "iban": operator.iban}


def buyer(account: ClientAccount, *, name: str = "", legal_name: str = "", siret: str = "",
          vat_number: str = "", address_text: str = "", email: str = "") -> dict[str, Any]:
    """The account's billing identity; the order's billing details, when given, win (what
    the buyer typed at checkout)."""
    siret = siret or account.siret
    legal = legal_name or account.legal_name
    return {"name": name or legal or account.name, "legal_name": legal,
            "siren": siret[:9] if siret else "", "siret": siret,
            "vat_number": vat_number or account.vat_number,
            "email": email or account.billing_email,
            "address": address(address_text or account.billing_address),
            "is_business": bool(siret or legal)}
