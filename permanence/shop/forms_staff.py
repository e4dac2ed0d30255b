"""Forms of the order board and of the staff order page."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import OrderStatus, PaymentMethod
from .selectors import DEFAULT_TAB, SORTS, TABS


class BoardFilterForm(forms.Form):
    """The board's query string; anything unparsable is dropped, never a 500."""

    tab = forms.ChoiceField(choices=list(TABS.items()), required=False)
    status = forms.ChoiceField(choices=[("", _("Tous les statuts")), *OrderStatus.choices],
                               required=False, label=_("Statut"))
    account = forms.IntegerField(required=False, min_value=1, label=_("Compte"))
    method = forms.ChoiceField(choices=[("", _("Tous les moyens")), *PaymentMethod.choices],
                               required=False, label=_("Moyen de paiement"))
    date_from = forms.DateField(required=False, label=_("Du"))
    date_to = forms.DateField(required=False, label=_("Au"))
    q = forms.CharField(required=False, max_length=100, label=_("Rechercher"))
    sort = forms.ChoiceField(choices=[("", "—"), *SORTS.items()], required=False,
                             label=_("Tri"))

    def filters(self) -> dict[str, Any]:
        """The valid filters (invalid ones are ignored and reported next to their field)."""
        self.is_valid()
        data = {name: self.cleaned_data.get(name) for name in self.fields
                if name not in self.errors}
        data["tab"] = data.get("tab") or DEFAULT_TAB
        data["q"] = (data.get("q") or "").strip()
        for key in ("status", "method", "sort"):
            data[key] = data.get(key) or ""
        return data


class TransitionForm(forms.Form):
    TARGETS = [(OrderStatus.VALIDATED, _("Valider")), (OrderStatus.ACTIVATED, _("Activer")),
               (OrderStatus.CANCELLED, _("Annuler"))]

    to = forms.ChoiceField(choices=TARGETS, label=_("Action"))
    note = forms.CharField(required=False, max_length=300, label=_("Note (historique)"),
                           widget=forms.TextInput)
    override_reason = forms.CharField(
        required=False, max_length=300, widget=forms.TextInput,
        label=_("Motif de la validation sans contrôles complets (superviseur)"))
    confirm = forms.BooleanField(label=_("Je confirme"),
                                 error_messages={"required": _("Cochez pour confirmer.")})

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("to") == OrderStatus.CANCELLED and not (data.get("note") or "").strip():
            self.add_error("note", _("Indiquez le motif de l'annulation."))
        return data


class InformationForm(forms.Form):
    complete = forms.TypedChoiceField(choices=[("1", _("complètes")), ("0", _("à compléter"))],
                                      coerce=lambda v: v == "1", label=_("Informations"))


class ContactForm(forms.Form):
    subject = forms.CharField(max_length=200, label=_("Objet"))
    body = forms.CharField(max_length=20_000, label=_("Message"),
                           widget=forms.Textarea(attrs={"rows": 8}))
