"""Forms of the Facturation pages."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from permanence.core.money import parse_eur


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
