"""French identifiers, checked with python-stdnum and schwifty. Return the compact form."""

from __future__ import annotations

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from schwifty import IBAN
from schwifty.exceptions import SchwiftyException
from stdnum.eu import vat
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.fr import siren, siret

# Numbers written without a country prefix are French.
PHONE_REGION = "FR"


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


def _parsed_phone(value: str) -> phonenumbers.PhoneNumber | None:
    """A French number (0X XX XX XX XX, 0033…) or an international one (+…); None if it is
    not a valid number."""
    text = (value or "").strip()
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, PHONE_REGION)
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_valid_number(number) else None


def normalise_phone(value: str) -> str:
    """Any way of writing a phone number → E.164 (+33145000004), with the phonenumbers
    library (numbers without a country prefix are French)."""
    number = _parsed_phone(value)
    if number is None:
        raise ValidationError(
            _("Numéro de téléphone invalide (ex. 01 23 45 67 89 ou +33 1 23 45 67 89)."),
            code="invalid_phone",
        )
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def phone_display(value: str) -> str:
    """For people: French numbers in the national format (01 45 00 00 04), others in the
    international one (+44 20 7946 0958); what cannot be parsed is shown as stored."""
    number = _parsed_phone(value) if value else None
    if number is None:
        return value or ""
    region = phonenumbers.region_code_for_number(number)
    style = (phonenumbers.PhoneNumberFormat.NATIONAL if region == PHONE_REGION
             else phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return str(phonenumbers.format_number(number, style))
