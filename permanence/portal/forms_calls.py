"""Filters of the espace client's « Appels et messages »."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from django import forms
from django.utils.timezone import make_aware
from django.utils.translation import gettext_lazy as _

from permanence.desk.models import Urgency
from permanence.desk.selectors import CallFilters

HANDLED_CHOICES = [("", _("Tous")), ("non", _("À traiter")), ("oui", _("Traités"))]


class CallFilterForm(forms.Form):
    q = forms.CharField(label=_("Rechercher"), max_length=100, required=False)
    du = forms.DateField(label=_("Du"), required=False,
                         widget=forms.DateInput(attrs={"type": "date"}))
    au = forms.DateField(label=_("Au"), required=False,
                         widget=forms.DateInput(attrs={"type": "date"}))
    motif = forms.ChoiceField(label=_("Motif"), required=False, choices=[])
    urgence = forms.ChoiceField(label=_("Urgence"), required=False,
                                choices=[("", _("Toutes")), *Urgency.choices])
    traite = forms.ChoiceField(label=_("État"), required=False, choices=HANDLED_CHOICES)

    def __init__(self, *args: Any, motifs: dict[str, str] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["motif"]
        assert isinstance(field, forms.ChoiceField)  # noqa: S101 (declared just above)  # nosec B101
        field.choices = [("", _("Tous")), *sorted((motifs or {}).items(),
                                                  key=lambda item: item[1].lower())]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("du") and data.get("au") and data["au"] < data["du"]:
            self.add_error("au", _("La date de fin précède la date de début."))
        return data

    def filters(self) -> CallFilters:
        """The selector's filters (call only once the form is valid)."""
        data = self.cleaned_data
        start = make_aware(datetime.combine(data["du"], time.min)) if data.get("du") else None
        end = (make_aware(datetime.combine(data["au"] + timedelta(days=1), time.min))
               if data.get("au") else None)
        return CallFilters(start=start, end=end, motif=data.get("motif") or "",
                           urgency=data.get("urgence") or "", handled=data.get("traite") or "",
                           q=data.get("q") or "")
