"""Forms of the catalog editor. They parse input only; catalog/services.py validates and writes."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from permanence.accounts.models import Sector
from permanence.core.errors import DomainError
from permanence.core.money import parse_eur

from .models import Offer, OfferKind, PublicPage, TermsVersion

# Digits with French or English separators, an optional minus (refused below) and "€".
EURO_RE = re.compile(r"^-?[0-9][0-9 \u00a0\u202f]*(?:[.,][0-9]*)?\s*€?$")


class EuroField(forms.CharField):
    """Euros as typed by a French user ("149,00", "1 234,5", "149 €") → integer cents."""

    default_error_messages = {"invalid": _("Montant invalide (ex. 149,00).")}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal",
                                                           "placeholder": "0,00"}))
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            euros, cents = divmod(value, 100)
            return f"{euros},{cents:02d}"
        return value

    def to_python(self, value: Any) -> int:  # type: ignore[override]
        text = super().to_python(value)
        if not text:
            return 0
        if not EURO_RE.match(text):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        try:
            cents = parse_eur(text)
        except (ValueError, InvalidOperation, TypeError):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None
        if cents < 0:
            raise forms.ValidationError(_("Le montant ne peut pas être négatif."),
                                        code="negative")
        return cents


class VatField(forms.CharField):
    """A VAT rate in percent, exact: "20", "5,5", "2.10" → Decimal."""

    def to_python(self, value: Any) -> Decimal:  # type: ignore[override]
        text = (super().to_python(value) or "").replace(",", ".").removesuffix("%").strip()
        try:
            rate = Decimal(text)
        except InvalidOperation:
            raise forms.ValidationError(_("Taux invalide (ex. 20 ou 5,5).")) from None
        if not rate.is_finite() or not Decimal(0) <= rate <= Decimal(100):
            raise forms.ValidationError(_("Le taux est compris entre 0 et 100 %."))
        if rate.as_tuple().exponent < -2:  # type: ignore[operator]
            raise forms.ValidationError(_("Deux décimales au plus."))
        return rate

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, Decimal):
            return format(value.normalize(), "f").replace(".", ",")
        return value


EURO_FIELDS = {"monthly_price": "monthly_price_cents", "one_off_price": "one_off_price_cents",
               "unit_price": "unit_price_cents", "hourly_rate": "hourly_rate_cents"}


class OfferForm(forms.ModelForm):
    monthly_price = EuroField(label=_("Prix mensuel HT (€)"))
    one_off_price = EuroField(label=_("Prix unique HT (€)"),
                              help_text=_("Prestation ponctuelle ou frais de mise en place."))
    unit_price = EuroField(label=_("Prix unitaire HT (€)"),
                           help_text=_("À l'acte, ou au-delà de la quantité incluse."))
    hourly_rate = EuroField(label=_("Taux horaire HT (€)"))
    vat_rate = VatField(label=_("Taux de TVA (%)"), initial="20")
    sectors = forms.MultipleChoiceField(
        label=_("Secteurs (aucun : tous)"), required=False,
        choices=Sector.choices, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = Offer
        fields = ["slug", "kind", "name", "name_en", "tagline", "tagline_en", "description",
                  "description_en", "included", "included_en", "sectors", "monthly_price",
                  "one_off_price", "included_quantity", "included_unit", "unit_price", "unit",
                  "hourly_rate", "increment_minutes", "commitment_months", "notice_days",
                  "activation_business_hours", "requires_information", "vat_rate", "options",
                  "is_published", "is_featured", "position"]
        widgets = {"description": forms.Textarea(attrs={"rows": 4}),
                   "description_en": forms.Textarea(attrs={"rows": 4}),
                   "included": forms.Textarea(attrs={"rows": 4}),
                   "included_en": forms.Textarea(attrs={"rows": 4}),
                   "options": forms.CheckboxSelectMultiple}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            for name, model_field in EURO_FIELDS.items():
                self.initial[name] = getattr(self.instance, model_field)
            self.initial["vat_rate"] = self.instance.vat_rate
        options = Offer.objects.filter(kind__in=[OfferKind.OPTION, OfferKind.ONE_OFF])
        if self.instance.pk:
            options = options.exclude(pk=self.instance.pk)
        self.fields["options"].queryset = options  # type: ignore[attr-defined]
        self.fields["options"].required = False

    def _post_clean(self) -> None:
        # Validation (uniqueness, consistency) is the service's job; the form only parses.
        pass

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        for name, model_field in EURO_FIELDS.items():
            data[model_field] = data.pop(name, 0)
        data["options"] = list(data.get("options") or [])
        return data


class PageForm(forms.ModelForm):
    class Meta:
        model = PublicPage
        fields = ["slug", "title", "title_en", "body", "body_en", "is_published"]
        widgets = {"body": forms.Textarea(attrs={"rows": 18}),
                   "body_en": forms.Textarea(attrs={"rows": 10})}
        help_texts = {"body": _("Paragraphes séparés par une ligne vide ; « ## » en début de "
                                "ligne pour un titre, « - » pour une liste. Pas de HTML.")}

    def _post_clean(self) -> None:
        pass


class TermsForm(forms.ModelForm):
    class Meta:
        model = TermsVersion
        fields = ["version", "body", "body_en"]
        widgets = {"body": forms.Textarea(attrs={"rows": 24}),
                   "body_en": forms.Textarea(attrs={"rows": 10})}
        help_texts = {"version": _("Par exemple 2026-11. Une version publiée ne change plus."),
                      "body": PageForm.Meta.help_texts["body"]}

    def _post_clean(self) -> None:
        pass


def apply_domain_error(form: forms.BaseForm, exc: DomainError) -> None:
    """Put a service's field errors next to the inputs (unknown fields: on the form)."""
    if not exc.fields:
        form.add_error(None, str(exc.message))
    for name, messages in exc.fields.items():
        for message in messages:
            form.add_error(name if name in form.fields else None, str(message))
