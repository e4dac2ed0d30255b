from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from permanence.accounts.models import ClientAccount

from .campaigns import MAX_ATTEMPTS, MAX_RETRY_MINUTES
from .models_campaigns import CampaignKind, Disposition


class CampaignForm(forms.Form):
    account = forms.ModelChoiceField(label=_("Compte client"), queryset=ClientAccount.objects.none())
    name = forms.CharField(label=_("Nom"), max_length=120)
    kind = forms.ChoiceField(label=_("Type"), choices=CampaignKind.choices)
    script = forms.CharField(label=_("Script d'appel"), required=False, max_length=20000,
                             widget=forms.Textarea(attrs={"rows": 6}))
    max_attempts = forms.IntegerField(label=_("Tentatives au plus"), min_value=1,
                                      max_value=MAX_ATTEMPTS, initial=3)
    retry_minutes = forms.IntegerField(label=_("Délai entre deux tentatives (minutes)"),
                                       min_value=1, max_value=MAX_RETRY_MINUTES, initial=120)
    business_hours_only = forms.BooleanField(label=_("Appeler aux heures d'ouverture du client"),
                                             required=False, initial=True)

    def __init__(self, *args: Any, accounts: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = accounts  # type: ignore[attr-defined]


class ImportForm(forms.Form):
    file = forms.FileField(label=_("Fichier CSV ou Excel (.xlsx)"))


class AttemptForm(forms.Form):
    disposition = forms.ChoiceField(label=_("Résultat"), choices=Disposition.choices,
                                    widget=forms.RadioSelect)
    note = forms.CharField(label=_("Note"), required=False, max_length=1000,
                           widget=forms.Textarea(attrs={"rows": 3}))
    call_back_at = forms.DateTimeField(label=_("Rappeler le"), required=False,
                                       widget=forms.DateTimeInput(attrs={"type": "datetime-local"},
                                                                  format="%Y-%m-%dT%H:%M"),
                                       input_formats=["%Y-%m-%dT%H:%M"])
