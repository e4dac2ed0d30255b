from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from permanence.accounts.models import ClientAccount

from .models import WebhookEvent


class WebhookEndpointForm(forms.Form):
    url = forms.CharField(label=_("URL de réception"), max_length=500,
                          widget=forms.URLInput(attrs={"placeholder": "https://"}))
    description = forms.CharField(label=_("Description"), max_length=200, required=False)
    account = forms.ModelChoiceField(
        label=_("Compte client"), queryset=ClientAccount.objects.none(), required=False,
        empty_label=_("Tous les comptes (webhook global)"))
    events = forms.MultipleChoiceField(
        label=_("Événements"), choices=WebhookEvent.choices,
        widget=forms.CheckboxSelectMultiple, initial=list(WebhookEvent.values))
    allow_private = forms.BooleanField(
        label=_("Autoriser une adresse privée ou locale"), required=False,
        help_text=_("Réservé aux services internes de confiance (réseau local, 127.0.0.1). "
                    "Sinon ces adresses sont refusées."))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = ClientAccount.objects.order_by("name")  # type: ignore[attr-defined]
