"""The filters of Consentements: source, account (among those the user sees), and one
e-mail address or phone number."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from permanence.core.validators import normalise_phone

from .consents import SOURCES

MAX_ID = 2**63 - 1


class ConsentFilterForm(forms.Form):
    source = forms.ChoiceField(label=_("Origine"), required=False)
    account = forms.TypedChoiceField(label=_("Compte client"), required=False, coerce=int,
                                     empty_value=None)
    q = forms.CharField(label=_("E-mail ou téléphone"), required=False, max_length=254,
                        widget=forms.TextInput(attrs={"type": "search",
                                                      "autocomplete": "off"}))

    def __init__(self, *args: Any, accounts: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["source"]).choices = [("", _("Toutes"))] + [
            (key, label) for key, (label, _rows) in SOURCES.items()]
        account_choices: list[tuple[Any, Any]] = [("", _("Tous")), *accounts]
        cast(forms.ChoiceField, self.fields["account"]).choices = account_choices

    def clean_q(self) -> dict[str, str]:
        """{"email": …} or {"phone": E.164}, or {} when empty."""
        text = " ".join(self.cleaned_data.get("q", "").split())
        if not text:
            return {}
        if "@" in text:
            return {"email": text.lower()}
        try:
            return {"phone": normalise_phone(text)}
        except ValidationError:
            raise ValidationError(
                _("Saisissez une adresse e-mail ou un numéro de téléphone "
                  "(ex. nom@exemple.fr, 06 12 34 56 78)."), code="invalid") from None
