"""French identifiers, checked with python-stdnum and schwifty. Return the compact form."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from schwifty import IBAN
from schwifty.exceptions import SchwiftyException
from stdnum.eu import vat
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.fr import siren, siret


def clean_siret(value: str) -> str:
    value = (value or "").strip()
    if not value:
        return ""
    try:
        return siret.validate(value)
    except StdnumError:
        raise ValidationError(
            _("Numéro SIRET invalide : 14 chiffres attendus, clé de contrôle comprise."),
            code="invalid_siret",
        ) from None


def clean_siren(value: str) -> str:
    value = (value or "").strip()
    if not value:
        return ""
    try:
        return siren.validate(value)
    except StdnumError:
        raise ValidationError(
            _("Numéro SIREN invalide : 9 chiffres attendus, clé de contrôle comprise."),
            code="invalid_siren",
        ) from None


def clean_vat(value: str) -> str:
    value = (value or "").strip()
    if not value:
        return ""
    try:
        return vat.validate(value)
    except StdnumError:
        raise ValidationError(
            _("Numéro de TVA intracommunautaire invalide (ex. FR40303265045)."),
            code="invalid_vat",
        ) from None


def clean_iban(value: str) -> str:
    value = (value or "").strip()
    if not value:
        return ""
    try:
        return IBAN(value).compact
    except SchwiftyException:
        raise ValidationError(_("IBAN invalide."), code="invalid_iban") from None


def normalise_phone(value: str) -> str:
    """French numbers to E.164 (+33…); other numbers kept with their + prefix."""
    digits = "".join(ch for ch in (value or "") if ch.isdigit() or ch == "+")
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    if digits.startswith("0") and len(digits) == 10:
        digits = "+33" + digits[1:]
    if not digits.startswith("+") or not 8 <= len(digits) <= 16 or "+" in digits[1:]:
        raise ValidationError(
            _("Numéro de téléphone invalide (ex. 01 23 45 67 89 ou +33 1 23 45 67 89)."),
            code="invalid_phone",
        )
    return digits
