"""Forms of the quotes: the public request, the staff editor (header + lines), acceptance."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.forms import formset_factory
from django.utils.translation import gettext_lazy as _

from permanence.accounts.models import ClientAccount, Sector, User
from permanence.catalog.models import Offer
from permanence.core.money import format_eur, parse_eur
from permanence.core.validators import normalise_phone
from permanence.shop.models import CustomerKind, QuoteStatus

from .selectors import today
from .services import MAX_LINES, QuoteLineInput, line_input_from_offer

CONSENT_VERSION = "devis-2026-01"
CONSENT_TEXT = _("J'accepte que les informations saisies dans ce formulaire soient utilisées "
                 "pour établir mon devis et me recontacter à ce sujet.")
CONSENT_HELP = _("Vos données ne servent qu'à préparer votre devis et ne sont transmises à "
                 "aucun tiers. Vous pouvez y accéder, les faire rectifier ou effacer en nous "
                 "écrivant.")
HONEYPOT_FIELD = "site_web"
EMAIL_ERRORS = {"invalid": _("Saisissez une adresse e-mail valide (ex. nom@exemple.fr).")}
SECTOR_CHOICES = [("", _("— Choisir —")), *Sector.choices]
VAT_CHOICES = [("20.00", "20 %"), ("10.00", "10 %"), ("5.50", "5,5 %"), ("2.10", "2,1 %"),
               ("0.00", "0 %")]


def _clean_phone(value: str) -> str:
    return normalise_phone(value) if value.strip() else ""


class QuoteRequestForm(forms.Form):
    name = forms.CharField(label=_("Nom et prénom"), max_length=150,
                           widget=forms.TextInput(attrs={"autocomplete": "name"}))
    email = forms.EmailField(label=_("Adresse e-mail"), max_length=254,
                             error_messages=EMAIL_ERRORS,
                             widget=forms.EmailInput(attrs={"autocomplete": "email"}),
                             help_text=_("Nous vous enverrons le devis à cette adresse."))
    phone = forms.CharField(label=_("Téléphone"), max_length=30, required=False,
                            widget=forms.TextInput(attrs={"autocomplete": "tel",
                                                          "inputmode": "tel"}))
    customer_kind = forms.ChoiceField(label=_("Vous êtes"), choices=CustomerKind.choices,
                                      initial=CustomerKind.PRO, widget=forms.RadioSelect)
    company = forms.CharField(label=_("Entreprise"), max_length=200, required=False,
                              widget=forms.TextInput(attrs={"autocomplete": "organization"}))
    sector = forms.ChoiceField(label=_("Secteur d'activité"), choices=SECTOR_CHOICES,
                               required=False)
    needs = forms.CharField(label=_("Vos besoins"), max_length=5000,
                            widget=forms.Textarea(attrs={"rows": 6}),
                            help_text=_("Accueil téléphonique, prise de rendez-vous, "
                                        "permanence le samedi, transfert d'appels…"))
    expected_volume = forms.CharField(label=_("Volume d'appels attendu"), max_length=120,
                                      required=False,
                                      help_text=_("Par exemple : une trentaine d'appels par "
                                                  "jour."))
    hours = forms.CharField(label=_("Plages horaires souhaitées"), max_length=200,
                            required=False,
                            help_text=_("Par exemple : du lundi au vendredi, 8 h – 19 h."))
    consent = forms.BooleanField(
        label=CONSENT_TEXT, help_text=CONSENT_HELP,
        error_messages={"required": _("Votre accord est nécessaire pour que nous puissions "
                                      "établir votre devis.")})
    site_web = forms.CharField(label=_("Ne pas remplir ce champ"), required=False,
                               widget=forms.TextInput(attrs={"tabindex": "-1",
                                                             "autocomplete": "off"}))

    def clean_phone(self) -> str:
        return _clean_phone(self.cleaned_data.get("phone", ""))

    def clean_needs(self) -> str:
        value: str = self.cleaned_data["needs"].strip()
        if not value:
            raise ValidationError(_("Décrivez vos besoins."), code="required")
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (data.get("customer_kind") == CustomerKind.PRO
                and not (data.get("company") or "").strip()):
            self.add_error("company", _("Indiquez le nom de votre entreprise."))
        return data


class QuoteHeaderForm(forms.Form):
    """The requester and the quote's own fields, in the staff editor."""

    requester_name = forms.CharField(label=_("Nom du destinataire"), max_length=150)
    requester_email = forms.EmailField(label=_("E-mail du destinataire"), max_length=254,
                                       error_messages=EMAIL_ERRORS)
    requester_phone = forms.CharField(label=_("Téléphone"), max_length=30, required=False)
    company = forms.CharField(label=_("Entreprise"), max_length=200, required=False)
    customer_kind = forms.ChoiceField(label=_("Type de client"), choices=CustomerKind.choices)
    sector = forms.ChoiceField(label=_("Secteur"), choices=SECTOR_CHOICES, required=False)
    needs = forms.CharField(label=_("Besoins exprimés"), required=False, max_length=5000,
                            widget=forms.Textarea(attrs={"rows": 3}))
    expected_volume = forms.CharField(label=_("Volume d'appels attendu"), max_length=120,
                                      required=False)
    hours = forms.CharField(label=_("Plages horaires souhaitées"), max_length=200,
                            required=False)
    message = forms.CharField(label=_("Message au client"), required=False, max_length=5000,
                              widget=forms.Textarea(attrs={"rows": 4}),
                              help_text=_("Affiché sur le devis et dans l'e-mail d'envoi."))
    valid_until = forms.DateField(label=_("Valable jusqu'au"), required=False,
                                  widget=forms.DateInput(attrs={"type": "date"},
                                                         format="%Y-%m-%d"),
                                  help_text=_("Vide : 30 jours à compter d'aujourd'hui."))

    def clean_requester_phone(self) -> str:
        return _clean_phone(self.cleaned_data.get("requester_phone", ""))

    def clean_valid_until(self) -> Any:
        value = self.cleaned_data.get("valid_until")
        if value is not None and value < today():
            raise ValidationError(_("La date de validité est déjà passée."), code="past")
        return value


class QuoteCreateForm(QuoteHeaderForm):
    """"Nouveau devis": the header, optionally for an existing client account."""

    account = forms.ModelChoiceField(label=_("Compte client"), required=False,
                                     queryset=ClientAccount.objects.none(),
                                     empty_label=_("— Aucun (prospect) —"))
    field_order = ["account"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = ClientAccount.objects.filter(  # type: ignore[attr-defined]
            is_operator=False).order_by("name")
        for name in ("requester_name", "requester_email"):
            self.fields[name].required = False
            self.fields[name].help_text = _("Vide : repris du compte client choisi.")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        account = data.get("account")
        if account is None:
            for name in ("requester_name", "requester_email"):
                if not data.get(name) and name not in self.errors:
                    self.add_error(name, _("Ce champ est obligatoire (ou choisissez un compte "
                                           "client)."))
        elif not data.get("requester_email") and not account.billing_email:
            self.add_error("requester_email", _("Ce compte n'a pas d'e-mail de facturation : "
                                                "indiquez l'adresse du destinataire."))
        return data


def cents_to_text(cents: int) -> str:
    """149,00 (what staff type back): the French amount without the currency sign."""
    return format_eur(cents).replace("\u00a0€", "").replace("\u202f", "")


class QuoteLineForm(forms.Form):
    offer = forms.ModelChoiceField(label=_("Offre du catalogue"), required=False,
                                   queryset=Offer.objects.none(),
                                   empty_label=_("— Ligne libre —"))
    label = forms.CharField(label=_("Libellé"), max_length=200, required=False)
    quantity = forms.IntegerField(label=_("Quantité"), min_value=1, max_value=1_000_000,
                                  initial=1,
                                  error_messages={"invalid": _("Nombre entier attendu.")})
    unit_price = forms.CharField(label=_("Prix unitaire HT (€)"), max_length=20,
                                 required=False,
                                 widget=forms.TextInput(attrs={"inputmode": "decimal",
                                                               "placeholder": "149,00"}))
    discount_percent = forms.DecimalField(label=_("Remise (%)"), min_value=Decimal(0),
                                          max_value=Decimal(100), decimal_places=2,
                                          max_digits=5, required=False, initial=Decimal(0),
                                          localize=True)
    vat_rate = forms.ChoiceField(label=_("TVA"), choices=VAT_CHOICES, initial="20.00")
    recurring = forms.BooleanField(label=_("Mensuel"), required=False)

    def __init__(self, *args: Any, offer_choices: list[tuple[Any, str]] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["offer"]
        field.queryset = Offer.objects.order_by("position", "name")  # type: ignore[attr-defined]
        if offer_choices is not None:  # read once for the whole formset, not once per line
            field.choices = offer_choices  # type: ignore[attr-defined]

    def is_blank(self) -> bool:
        """Neither offer, label nor price: an empty line, skipped (not an error)."""
        return self.is_bound and not any((self.data.get(self.add_prefix(name)) or "").strip()
                                         for name in ("offer", "label", "unit_price"))

    def has_changed(self) -> bool:
        return False if self.is_blank() else super().has_changed()

    def clean_unit_price(self) -> int | None:
        text: str = self.cleaned_data.get("unit_price", "").strip()
        if not text:
            return None
        try:
            cents = parse_eur(text)
        except (ValueError, ArithmeticError):
            raise ValidationError(_("Montant invalide : écrivez par exemple 149,00."),
                                  code="invalid") from None
        if cents < 0:
            raise ValidationError(_("Le prix ne peut pas être négatif."), code="negative")
        if cents > 100_000_000:
            raise ValidationError(_("Montant trop élevé."), code="too_large")
        return cents

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        offer = data.get("offer")
        if offer is None:
            if not (data.get("label") or "").strip() and "label" not in self.errors:
                self.add_error("label", _("Indiquez un libellé (ou choisissez une offre)."))
            if data.get("unit_price") is None and "unit_price" not in self.errors:
                self.add_error("unit_price", _("Indiquez le prix unitaire HT."))
        return data

    def to_input(self) -> QuoteLineInput:
        """An offer with the price left blank brings its price, VAT rate and rhythm
        (monthly or one-off); otherwise what was typed is what counts."""
        data = self.cleaned_data
        offer: Offer | None = data.get("offer")
        discount = data.get("discount_percent") or Decimal(0)
        quantity = int(data.get("quantity") or 1)
        label = (data.get("label") or "").strip()
        if offer is not None and data.get("unit_price") is None:
            base = line_input_from_offer(offer, quantity, discount)
            return QuoteLineInput(label=label or base.label, quantity=quantity,
                                  unit_price_cents=base.unit_price_cents,
                                  vat_rate=base.vat_rate, discount_percent=discount,
                                  recurring=base.recurring, offer=offer)
        return QuoteLineInput(label=label or (offer.display_name if offer else ""),
                              quantity=quantity, unit_price_cents=int(data["unit_price"]),
                              vat_rate=Decimal(data["vat_rate"]), discount_percent=discount,
                              recurring=bool(data.get("recurring")), offer=offer)


QuoteLineFormSet = formset_factory(QuoteLineForm, extra=2, can_delete=True, max_num=MAX_LINES,
                                   validate_max=True)


def offer_choices() -> list[tuple[Any, str]]:
    """The offer menu of the line forms: "name — price HT" (monthly or one-off)."""
    choices: list[tuple[Any, str]] = [("", str(_("— Ligne libre —")))]
    for offer in Offer.objects.order_by("position", "name"):
        if offer.monthly_price_cents or offer.one_off_price_cents:
            price = offer.monthly_price_cents or offer.one_off_price_cents
            suffix = str(_("/ mois")) if offer.monthly_price_cents else ""
        elif offer.hourly_rate_cents:  # billed on time spent: show the rate, not "0,00 €"
            price, suffix = offer.hourly_rate_cents, str(_("/ heure"))
        elif offer.unit_price_cents:  # billed per act
            price = offer.unit_price_cents
            suffix = "/ " + (offer.get_unit_display() if offer.unit else str(_("acte")))
        else:
            price, suffix = 0, ""
        choices.append((offer.pk, f"{offer.display_name} — {format_eur(price)} HT {suffix}"
                        .strip()))
    return choices


def line_initial(line: Any) -> dict[str, Any]:
    return {"offer": line.offer_id, "label": line.label, "quantity": line.quantity,
            "unit_price": cents_to_text(line.unit_price_cents),
            "discount_percent": line.discount_percent,
            "vat_rate": f"{line.vat_rate:.2f}", "recurring": line.recurring}


def kept_line_forms(formset: Any) -> list[Any]:
    """The line forms that make the quote: not blank, not ticked for removal."""
    return [form for form in formset.forms if not form.is_blank()
            and not (getattr(form, "cleaned_data", None) or {}).get("DELETE")]


def lines_from_formset(formset: Any) -> list[QuoteLineInput]:
    return [form.to_input() for form in kept_line_forms(formset)]


class QuoteAcceptForm(forms.Form):
    """`with_password`: the requester has no login yet; one is created with the order (and
    they are logged in, to pay and follow it in the espace client)."""

    billing_address = forms.CharField(label=_("Adresse de facturation"), max_length=500,
                                      widget=forms.Textarea(attrs={"rows": 3,
                                                                   "autocomplete": "street-address"}))
    password1 = forms.CharField(label=_("Choisissez un mot de passe"), required=False,
                                strip=False, max_length=128,
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                                help_text=_("Pour accéder à votre espace client (suivi de la "
                                            "commande, factures)."))
    password2 = forms.CharField(label=_("Confirmez le mot de passe"), required=False,
                                strip=False, max_length=128,
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    accept_terms = forms.BooleanField(
        label=_("J'ai lu et j'accepte les conditions générales de vente."),
        error_messages={"required": _("Cochez la case pour accepter les conditions générales "
                                      "de vente.")})

    def __init__(self, *args: Any, with_password: bool = False, email: str = "",
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.with_password = with_password
        self.email = email
        if with_password:
            self.fields["password1"].required = True
            self.fields["password2"].required = True
        else:
            del self.fields["password1"], self.fields["password2"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.with_password:
            return data
        first, second = data.get("password1"), data.get("password2")
        if first and second and first != second:
            self.add_error("password2", _("Les deux mots de passe ne correspondent pas."))
        elif first:
            try:
                validate_password(first, User(email=self.email))
            except ValidationError as exc:
                self.add_error("password1", exc)
        return data


class QuoteDeclineForm(forms.Form):
    reason = forms.CharField(label=_("Motif (facultatif)"), max_length=300, required=False,
                             widget=forms.Textarea(attrs={"rows": 2}))


class LinkAccountForm(forms.Form):
    account = forms.ModelChoiceField(label=_("Compte client"), required=False,
                                     queryset=ClientAccount.objects.none(),
                                     empty_label=_("— Aucun (prospect) —"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = ClientAccount.objects.filter(  # type: ignore[attr-defined]
            is_operator=False).order_by("name")


class QuoteFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Statut"), required=False,
                               choices=[("", _("Tous")), *QuoteStatus.choices])
    overdue = forms.BooleanField(label=_("Réponse en retard"), required=False)
    q = forms.CharField(label=_("Recherche"), required=False, max_length=100)
