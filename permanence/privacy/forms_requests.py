from __future__ import annotations

from datetime import datetime, time
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from permanence.accounts.models import ClientAccount
from permanence.core.validators import normalise_phone
from permanence.inbox.models import Contact

from .models_requests import RequestKind, RequestTarget


class RequestForm(forms.Form):
    kind = forms.ChoiceField(label=_("Nature de la demande"), choices=RequestKind.choices)
    target = forms.ChoiceField(label=_("Personne concernée"), choices=RequestTarget.choices,
                               widget=forms.RadioSelect, initial=RequestTarget.CONTACT)
    account = forms.ModelChoiceField(label=_("Compte client"), required=False,
                                     queryset=ClientAccount.objects.order_by("name"))
    contact_lookup = forms.CharField(
        label=_("E-mail ou téléphone du contact"), required=False, max_length=254,
        help_text=_("Le contact du compte choisi ci-dessus."))
    description = forms.CharField(label=_("Description de la personne"), required=False,
                                  widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)
    email = forms.EmailField(label=_("E-mail de la personne"), required=False)
    received_on = forms.DateField(label=_("Reçue le"), required=False,
                                  widget=forms.DateInput(attrs={"type": "date"}),
                                  help_text=_("Vide : aujourd'hui. Le délai d'un mois court "
                                              "de cette date."))
    note = forms.CharField(label=_("Note"), required=False, max_length=4000,
                           widget=forms.Textarea(attrs={"rows": 3}))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        target = data.get("target")
        account = data.get("account")
        if target in {RequestTarget.CONTACT, RequestTarget.ACCOUNT} and account is None:
            self.add_error("account", _("Choisissez le compte client."))
        if target == RequestTarget.CONTACT and account is not None:
            data["contact"] = self._contact(account, data.get("contact_lookup", ""))
        if target == RequestTarget.PERSON and not data.get("email"):
            self.add_error("email", _("Indiquez l'e-mail de la personne."))
        received = data.get("received_on")
        if received is not None:
            if received > timezone.localdate():
                self.add_error("received_on", _("La date de réception est dans le futur."))
            data["received_at"] = timezone.make_aware(datetime.combine(received, time(9)))
        return data

    def _contact(self, account: ClientAccount, lookup: str) -> Contact | None:
        lookup = lookup.strip()
        if not lookup:
            self.add_error("contact_lookup", _("Indiquez l'e-mail ou le téléphone du contact."))
            return None
        contacts = Contact.objects.filter(account=account)
        if "@" in lookup:
            contact = contacts.filter(email__iexact=lookup).first()
        else:
            try:
                phone = normalise_phone(lookup)
            except ValidationError:
                phone = ""
            contact = contacts.filter(phone=phone).first() if phone else None
        if contact is None:
            self.add_error("contact_lookup", _("Aucun contact de ce compte avec cet e-mail ou "
                                               "ce téléphone."))
        return contact


class RefuseForm(forms.Form):
    reason = forms.CharField(label=_("Motif du refus"), max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 2}))


class RectifyForm(forms.Form):
    changes = forms.CharField(label=_("Ce qui a été rectifié"), max_length=4000,
                              widget=forms.Textarea(attrs={"rows": 3}))
