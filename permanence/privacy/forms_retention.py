"""Forms of the retention schedules and of the breach register."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from permanence.calendars.forms import DateTimeLocalInput

from . import registry
from .models import Breach
from .retention import MAXIMUM_DAYS


class ScheduleForm(forms.Form):
    rule = forms.ChoiceField(label=_("Règle"), choices=[
        (key, rule.label) for key, rule in registry.RETENTION.items() if rule.days is not None])
    days = forms.IntegerField(label=_("Durée (jours)"), min_value=1, max_value=MAXIMUM_DAYS)


class BreachForm(forms.ModelForm):
    data_categories = forms.MultipleChoiceField(
        label=_("Catégories de données"), required=False,
        choices=list(registry.CATEGORIES.items()), widget=forms.CheckboxSelectMultiple)
    subject_categories = forms.MultipleChoiceField(
        label=_("Catégories de personnes"), required=False,
        choices=list(registry.SUBJECTS.items()), widget=forms.CheckboxSelectMultiple)
    people_count = forms.IntegerField(label=_("Nombre approximatif de personnes"),
                                      required=False, min_value=0, max_value=1_000_000_000)

    class Meta:
        model = Breach
        fields = ["title", "description", "discovered_at", "occurred_at", "data_categories",
                  "subject_categories", "people_count", "consequences", "measures", "risk",
                  "notified_at", "informed_at", "status"]
        widgets = {name: DateTimeLocalInput() for name in (
            "discovered_at", "occurred_at", "notified_at", "informed_at")} | {
            "description": forms.Textarea(attrs={"rows": 4}),
            "consequences": forms.Textarea(attrs={"rows": 3}),
            "measures": forms.Textarea(attrs={"rows": 3})}

    def data_for_service(self) -> dict[str, Any]:
        return dict(self.cleaned_data)
