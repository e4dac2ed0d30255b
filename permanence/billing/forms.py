"""Forms of the Facturation pages."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from permanence.core.money import parse_eur

from .models_schedules import ScheduleMethod


class CreditNoteForm(forms.Form):
    reason = forms.CharField(label=_("Motif"), max_length=300)
    amount = forms.CharField(label=_("Montant HT (vide : toute la facture)"), max_length=20,
                             required=False)
    complaint = forms.IntegerField(label=_("Réclamation à l'origine (n° de dossier interne)"),
                                   required=False, min_value=1, max_value=2**62)

    def clean_amount(self) -> int | None:
        text = (self.cleaned_data.get("amount") or "").strip()
        if not text:
            return None
        try:
            cents = parse_eur(text)
        except ValueError:
            raise forms.ValidationError(_("Un montant comme 12,50.")) from None
        if cents <= 0:
            raise forms.ValidationError(_("Un montant positif."))
        return cents


class GestureForm(forms.Form):
    amount = forms.CharField(label=_("Montant HT à déduire de la prochaine facture"),
                             max_length=20)
    reason = forms.CharField(label=_("Motif"), max_length=300)
    complaint = forms.IntegerField(label=_("Réclamation à l'origine (n° de dossier interne)"),
                                   required=False, min_value=1, max_value=2**62)

    def clean_amount(self) -> int:
        try:
            cents = parse_eur((self.cleaned_data.get("amount") or "").strip())
        except ValueError:
            raise forms.ValidationError(_("Un montant comme 12,50.")) from None
        if not 0 < cents <= 10_000_000:
            raise forms.ValidationError(_("Entre 0,01 € et 100 000 € HT."))
        return cents


class ScheduleForm(forms.Form):
    count = forms.IntegerField(label=_("Nombre d'échéances (mensuelles)"), min_value=2,
                               max_value=12, initial=3)
    first_due = forms.DateField(label=_("Première échéance"),
                                widget=forms.DateInput(attrs={"type": "date"}))
    method = forms.ChoiceField(label=_("Paiement"), choices=ScheduleMethod.choices)
    all_open = forms.BooleanField(label=_("Inclure les autres factures ouvertes du client"),
                                  required=False)
    note = forms.CharField(label=_("Accord (ce qui a été convenu avec le client)"),
                           max_length=300, required=False)
