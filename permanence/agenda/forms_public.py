"""Forms of the public booking page: the query (type, week, slot) read from the address, and
the contact's booking form (name, e-mail, phone, the type's questions, consent)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from permanence.core.validators import normalise_phone

from .models import AppointmentType

HONEYPOT_FIELD = "site_web"
MAX_ID = 2**63 - 1
# How far the week paging may go (the types' own horizon applies on top of it).
MAX_WEEKS = 160
CONSENT_TEXT = _("J'accepte que mes données soient utilisées pour gérer ce rendez-vous")
EMAIL_ERRORS = {"invalid": _("Saisissez une adresse e-mail valide (ex. nom@exemple.fr).")}


def parse_start(value: str) -> datetime | None:
    """A slot's start as written in our links (ISO 8601 with its offset) → aware UTC; None
    when it is not one."""
    text = (value or "").strip()
    if not text or len(text) > 40:
        return None
    try:
        parsed = datetime.fromisoformat(text.replace(" ", "+"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return None
    try:
        return parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def start_param(start: datetime) -> str:
    """The inverse of `parse_start`: how a slot is written in a link or a hidden field."""
    return start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class SlotQueryForm(forms.Form):
    """What the address says: the type chosen, the week shown, the slot picked (all
    optional). Garbage never reaches the database: ids are bounded, dates parsed."""

    type = forms.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    du = forms.DateField(required=False, input_formats=["%Y-%m-%d"])
    start = forms.CharField(required=False, max_length=40)
    agenda = forms.IntegerField(required=False, min_value=1, max_value=MAX_ID)

    def clean_start(self) -> datetime | None:
        value = self.cleaned_data.get("start") or ""
        if not value:
            return None
        parsed = parse_start(value)
        if parsed is None:
            raise ValidationError(_("Créneau invalide."), code="invalid")
        return parsed

    def clean_du(self) -> date | None:
        value: date | None = self.cleaned_data.get("du")
        if value is not None and not (date(2000, 1, 1) <= value <= date(2200, 1, 1)):
            raise ValidationError(_("Date invalide."), code="invalid")
        return value


class BookingForm(forms.Form):
    """The contact's details and answers; `type`/`start`/`agenda` say which slot."""

    type = forms.IntegerField(min_value=1, max_value=MAX_ID, widget=forms.HiddenInput)
    start = forms.CharField(max_length=40, widget=forms.HiddenInput)
    agenda = forms.IntegerField(required=False, min_value=1, max_value=MAX_ID,
                                widget=forms.HiddenInput)
    name = forms.CharField(label=_("Nom et prénom"), max_length=200,
                           widget=forms.TextInput(attrs={"autocomplete": "name"}))
    email = forms.EmailField(label=_("Adresse e-mail"), max_length=254,
                             error_messages=EMAIL_ERRORS,
                             widget=forms.EmailInput(attrs={"autocomplete": "email"}),
                             help_text=_("Vous y recevez la confirmation et le lien pour "
                                         "annuler ou déplacer le rendez-vous."))
    phone = forms.CharField(label=_("Téléphone mobile"), max_length=30, required=False,
                            widget=forms.TextInput(attrs={"autocomplete": "tel",
                                                          "inputmode": "tel"}),
                            help_text=_("Facultatif : pour recevoir un rappel par SMS."))

    def __init__(self, *args: Any, kind: AppointmentType, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.questions = [str(q) for q in (kind.questions or []) if str(q).strip()]
        for i, question in enumerate(self.questions):
            self.fields[f"q{i}"] = forms.CharField(
                label=question, max_length=500,
                widget=forms.Textarea(attrs={"rows": 2}),
                error_messages={"required": _("Merci de répondre à cette question.")})
        self.fields["consent"] = forms.BooleanField(
            label=CONSENT_TEXT,
            error_messages={"required": _("Votre accord est nécessaire pour réserver.")})
        self.fields[HONEYPOT_FIELD] = forms.CharField(
            label=_("Ne pas remplir ce champ"), required=False,
            widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}))

    def clean_start(self) -> datetime:
        parsed = parse_start(self.cleaned_data.get("start", ""))
        if parsed is None:
            raise ValidationError(_("Créneau invalide : choisissez-en un dans la liste."),
                                  code="invalid")
        return parsed

    def clean_name(self) -> str:
        value = " ".join(self.cleaned_data["name"].split())
        if not value:
            raise ValidationError(_("Indiquez votre nom."), code="required")
        return value

    def clean_phone(self) -> str:
        value: str = self.cleaned_data.get("phone", "")
        return normalise_phone(value) if value.strip() else ""

    @property
    def question_fields(self) -> list[forms.BoundField]:
        return [self[f"q{i}"] for i in range(len(self.questions))]

    def answers(self) -> dict[str, str]:
        return {q: self.cleaned_data.get(f"q{i}", "") for i, q in enumerate(self.questions)}
