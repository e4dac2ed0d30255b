from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from permanence.accounts.models import ClientAccount, User
from permanence.inbox.models import Channel


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%d")


class ReportFilterForm(forms.Form):
    """The period (whole local days), and optionally one account, one secretary, one channel.
    Choices are limited to what the viewer may see: anything else is a field error."""

    du = forms.DateField(label=_("Du"), required=False, widget=DateInput())
    au = forms.DateField(label=_("Au"), required=False, widget=DateInput())
    compte = forms.TypedChoiceField(label=_("Compte client"), coerce=int, required=False,
                                    empty_value=None)
    secretaire = forms.TypedChoiceField(label=_("Secrétaire"), coerce=int, required=False,
                                        empty_value=None)
    canal = forms.ChoiceField(label=_("Canal"), required=False)

    def __init__(self, data: Any, *, accounts: list[ClientAccount], staff: list[User],
                 today: date) -> None:
        super().__init__(data)
        self.today = today
        choices: dict[str, list[tuple[Any, Any]]] = {
            "compte": [("", _("Tous les comptes visibles"))] + [(a.pk, a.name) for a in accounts],
            "secretaire": [("", _("Toute l'équipe"))] + [(u.pk, u.full_name or u.email)
                                                         for u in staff],
            "canal": [("", _("Tous les canaux")), *Channel.choices]}
        for name, values in choices.items():
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)  # noqa: S101 (declared just above)
            field.choices = values

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        end = data.get("au") or self.today
        start = data.get("du") or (end - timedelta(days=29))
        data["du"], data["au"] = start, end
        return data
