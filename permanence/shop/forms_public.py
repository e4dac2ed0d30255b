"""Forms of the storefront: add to cart, the two checkout steps, payment retry."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.fr import siret as fr_siret
from stdnum.fr import tva as fr_tva

from permanence.accounts.models import User
from permanence.accounts.permissions import Actor
from permanence.accounts.services import login_exists
from permanence.core.validators import normalise_phone

from .cart import MAX_QUANTITY
from .checkout import CheckoutDetails
from .consents import PRIVACY_REQUIRED, PRIVACY_TEXT, TERMS_TEXT
from .models import CustomerKind, PaymentMethod


class QuantityForm(forms.Form):
    quantity = forms.IntegerField(label=_("Quantité"), min_value=0, max_value=MAX_QUANTITY)


def clean_siret(value: str) -> str:
    value = (value or "").replace(" ", "").replace(".", "").strip()
    try:
        return str(fr_siret.validate(value))
    except StdnumError:
        raise ValidationError(_("SIRET invalide : 14 chiffres attendus, clé de contrôle "
                                "comprise."), code="invalid_siret") from None


def clean_vat_number(value: str) -> str:
    value = (value or "").strip().upper()
    if not value:
        return ""
    try:
        if value.startswith("FR") or value[:1].isdigit():
            return "FR" + str(fr_tva.validate(value))
        return str(eu_vat.validate(value))
    except StdnumError:
        raise ValidationError(_("Numéro de TVA intracommunautaire invalide (ex. FR40303265045)."),
                              code="invalid_vat") from None


class CheckoutDetailsForm(forms.Form):
    """Step 1: who is buying, billing details, and a login for a new customer."""

    customer_kind = forms.ChoiceField(label=_("Vous êtes"), choices=CustomerKind.choices,
                                      widget=forms.RadioSelect, initial=CustomerKind.PRO)
    account = forms.TypedChoiceField(label=_("Compte client"), coerce=int, required=False)
    legal_name = forms.CharField(label=_("Raison sociale"), max_length=200, required=False)
    siret = forms.CharField(label=_("SIRET"), max_length=20, required=False,
                            help_text=_("14 chiffres."))
    vat_number = forms.CharField(label=_("N° de TVA intracommunautaire (facultatif)"),
                                 max_length=20, required=False)
    name = forms.CharField(label=_("Nom et prénom"), max_length=150)
    email = forms.EmailField(label=_("E-mail"))
    phone = forms.CharField(label=_("Téléphone"), max_length=30, required=False)
    address = forms.CharField(label=_("Adresse de facturation"), max_length=500,
                              widget=forms.Textarea(attrs={"rows": 3}))
    password1 = forms.CharField(label=_("Mot de passe"), strip=False,
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                                required=False)
    password2 = forms.CharField(label=_("Mot de passe (confirmation)"), strip=False,
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                                required=False)

    def clean_phone(self) -> str:
        value = self.cleaned_data.get("phone", "")
        return normalise_phone(value) if value.strip() else ""

    def __init__(self, *args: Any, user: Actor | None = None, accounts: list[Any] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.logged_in = bool(getattr(user, "is_authenticated", False))
        self.accounts = accounts or []
        if self.logged_in:
            del self.fields["password1"]
            del self.fields["password2"]
            account_field = self.fields["account"]
            assert isinstance(account_field, forms.TypedChoiceField)  # noqa: S101  # nosec B101
            account_field.choices = [(a.pk, a.name) for a in self.accounts]
            self.fields["account"].required = True
            if len(self.accounts) == 1:
                self.fields["account"].widget = forms.HiddenInput()
                self.fields["account"].initial = self.accounts[0].pk
        else:
            del self.fields["account"]
            self.fields["password1"].required = True
            self.fields["password2"].required = True
            self.fields["password1"].help_text = _(
                "Pour créer votre espace client et suivre votre commande.")

    def clean_siret(self) -> str:
        value = self.cleaned_data.get("siret", "")
        if self.data.get(self.add_prefix("customer_kind")) != CustomerKind.PRO:
            return ""
        if not value.strip():
            raise ValidationError(_("Le SIRET est obligatoire pour un professionnel."),
                                  code="required")
        return clean_siret(value)

    def clean_vat_number(self) -> str:
        return clean_vat_number(self.cleaned_data.get("vat_number", ""))

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        if not self.logged_in and login_exists(email):
            login = reverse("login") + "?next=" + reverse("shop:checkout")
            raise ValidationError(format_html(
                '{} <a href="{}">{}</a>',
                _("Un compte existe déjà avec cette adresse e-mail."), login,
                _("Connectez-vous pour commander.")), code="exists")
        return email

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind = data.get("customer_kind")
        if kind == CustomerKind.PRO and not (data.get("legal_name") or "").strip():
            self.add_error("legal_name", _("La raison sociale est obligatoire pour un "
                                           "professionnel."))
        if kind == CustomerKind.CONSUMER:
            data["legal_name"] = ""
            data["vat_number"] = ""
        if not self.logged_in:
            p1, p2 = data.get("password1"), data.get("password2")
            if p1 and p2 and p1 != p2:
                self.add_error("password2", _("Les deux mots de passe ne correspondent pas."))
            elif p1:
                probe = User(email=data.get("email", ""), full_name=data.get("name", ""))
                try:
                    validate_password(p1, probe)
                except ValidationError as exc:
                    self.add_error("password1", exc)
        return data

    def details(self) -> CheckoutDetails:
        d = self.cleaned_data
        return CheckoutDetails(
            customer_kind=d["customer_kind"], name=d["name"].strip(), email=d["email"],
            address=d["address"].strip(), phone=d.get("phone", "").strip(),
            legal_name=(d.get("legal_name") or "").strip(), siret=d.get("siret") or "",
            vat_number=d.get("vat_number") or "", account_id=d.get("account") or None,
            password_hash=make_password(d["password1"]) if not self.logged_in else "")


class CheckoutPaymentForm(forms.Form):
    """Step 2: payment method, CGV, and for consumers the withdrawal period."""

    payment_method = forms.ChoiceField(label=_("Moyen de paiement"),
                                       choices=PaymentMethod.choices, widget=forms.RadioSelect,
                                       initial=PaymentMethod.CARD)
    accept_terms = forms.BooleanField(
        label=TERMS_TEXT,
        error_messages={"required": _("Vous devez accepter les conditions générales de "
                                      "vente.")})
    accept_privacy = forms.BooleanField(
        label=PRIVACY_TEXT, error_messages={"required": PRIVACY_REQUIRED})
    start_before_withdrawal_end = forms.BooleanField(
        label=_("Je demande l'exécution du service avant la fin du délai de rétractation"),
        required=False,
        help_text=_("Si vous vous rétractez ensuite, vous paierez le service fourni jusqu'à "
                    "votre rétractation."))

    def __init__(self, *args: Any, consumer: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not consumer:
            del self.fields["start_before_withdrawal_end"]


class RetryPaymentForm(forms.Form):
    payment_method = forms.ChoiceField(label=_("Moyen de paiement"),
                                       choices=PaymentMethod.choices, required=False)
