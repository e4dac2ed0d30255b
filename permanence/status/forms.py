"""Forms of the incident log."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from permanence.calendars.forms import DateTimeLocalInput

from .models import Channel, Incident
from .services import MAX_TEXT


class IncidentForm(forms.ModelForm):
    channels = forms.MultipleChoiceField(label=_("Canaux concernés"), choices=Channel.choices,
                                         widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = Incident
        fields = ["kind", "title", "title_en", "description", "description_en", "channels",
                  "severity", "starts_at", "ends_at", "planned", "public", "internal_notes"]
        widgets = {"starts_at": DateTimeLocalInput(), "ends_at": DateTimeLocalInput(),
                   "description": forms.Textarea(attrs={"rows": 4}),
                   "description_en": forms.Textarea(attrs={"rows": 3}),
                   "internal_notes": forms.Textarea(attrs={"rows": 3})}
        help_texts = {
            "ends_at": _("Laisser vide tant que l'intervention est en cours."),
            "planned": _("Annoncée à l'avance (une maintenance planifiée est décomptée à "
                         "part dans la disponibilité)."),
            "public": _("Affichée sur la page de statut et annoncée sur le site et l'espace "
                        "client (en cours ou dans les 7 jours)."),
            "internal_notes": _("Jamais publiées."),
        }

    def data_for_service(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class IncidentUpdateForm(forms.Form):
    text = forms.CharField(label=_("Point d'étape (public)"), max_length=MAX_TEXT,
                           widget=forms.Textarea(attrs={"rows": 3}))
    text_en = forms.CharField(label=_("Point d'étape en anglais (facultatif)"),
                              max_length=MAX_TEXT, required=False,
                              widget=forms.Textarea(attrs={"rows": 2}))
