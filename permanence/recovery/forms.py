"""Forms of the incident pages and the invoice's transfer matching."""

from __future__ import annotations

from datetime import date

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from permanence.core.money import parse_eur


class TransferForm(forms.Form):
    amount = forms.CharField(label=_("Montant reçu (€)"), max_length=20,
                             help_text=_("Par exemple 178,80"))
    received_on = forms.DateField(label=_("Date du virement"),
                                  widget=forms.DateInput(attrs={"type": "date"}))
    bank_label = forms.CharField(label=_("Libellé bancaire"), max_length=200)

    def clean_amount(self) -> int:
        try:
            cents = parse_eur(self.cleaned_data["amount"])
        except (ValueError, ArithmeticError) as exc:
            raise forms.ValidationError(_("Montant invalide (ex. 178,80).")) from exc
        if cents <= 0:
            raise forms.ValidationError(_("Le montant doit être positif."))
        return cents

    def clean_received_on(self) -> date:
        day: date = self.cleaned_data["received_on"]
        if day > timezone.localdate():
            raise forms.ValidationError(_("La date ne peut pas être dans le futur."))
        return day


class NoteForm(forms.Form):
    text = forms.CharField(label=_("Note"), max_length=300,
                           widget=forms.Textarea(attrs={"rows": 2}))


class ResolveForm(forms.Form):
    note = forms.CharField(label=_("Motif de clôture"), max_length=300, required=False)
