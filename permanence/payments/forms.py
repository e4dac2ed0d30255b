from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from permanence.core.money import parse_eur
from permanence.shop.models import PaymentMethod

from .models import PaymentStatus, Provider
from .selectors import EVENT_STATES


class PaymentFilterForm(forms.Form):
    order = forms.CharField(label=_("Commande"), required=False, max_length=30)
    status = forms.ChoiceField(label=_("Statut"), required=False,
                               choices=[("", _("Tous"))] + list(PaymentStatus.choices))
    provider = forms.ChoiceField(label=_("Prestataire"), required=False,
                                 choices=[("", _("Tous"))] + list(Provider.choices))
    method = forms.ChoiceField(label=_("Moyen"), required=False,
                               choices=[("", _("Tous"))] + list(PaymentMethod.choices))


class EventFilterForm(forms.Form):
    state = forms.ChoiceField(label=_("État"), required=False, choices=[
        ("", _("Tous")), (EVENT_STATES[0], _("En attente")), (EVENT_STATES[1], _("En erreur")),
        (EVENT_STATES[2], _("Traités"))])


class TransferMatchForm(forms.Form):
    reference = forms.CharField(label=_("Référence du virement ou de la commande"),
                                max_length=40)
    amount = forms.CharField(label=_("Montant reçu (€)"), max_length=20,
                             help_text=_("Par exemple 178,80"))
    bank_label = forms.CharField(label=_("Libellé bancaire"), max_length=200, required=False)

    def clean_amount(self) -> int:
        try:
            cents = parse_eur(self.cleaned_data["amount"])
        except (ValueError, ArithmeticError) as exc:
            raise forms.ValidationError(_("Montant invalide (ex. 178,80).")) from exc
        if cents <= 0:
            raise forms.ValidationError(_("Le montant doit être positif."))
        return cents

    def clean(self) -> dict[str, Any]:
        return super().clean() or {}
