"""The public contact form, and the attachments field shared with the espace client."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from permanence.core.validators import normalise_phone
from permanence.inbox.attachments import MAX_ATTACHMENT_BYTES
from permanence.inbox.forms import MultipleFileField
from permanence.inbox.models import Kind

# The request types a customer may choose (inbox `Kind` values).
REQUEST_KINDS: list[tuple[str, Any]] = [
    (Kind.QUESTION.value, Kind.QUESTION.label),
    (Kind.QUOTE_REQUEST.value, Kind.QUOTE_REQUEST.label),
    (Kind.SUPPORT.value, Kind.SUPPORT.label),
    (Kind.COMPLAINT.value, Kind.COMPLAINT.label),
]
MAX_FILES = 5
MAX_MESSAGE_CHARS = 10_000

# The consent wording shown next to the checkbox. Each message stores the text the person
# agreed to (with the account's name in it), its version (core.consent.text_version: a hash
# of that text, new whenever the wording changes) and the time.
CONSENT_TEXT = _(
    "J'accepte que les informations saisies dans ce formulaire soient utilisées par "
    "%(account)s et son service de télésecrétariat pour traiter ma demande et y répondre."
)
CONSENT_HELP = _(
    "Vos données ne servent qu'à répondre à votre demande et ne sont transmises à aucun tiers. "
    "Vous pouvez y accéder, les faire rectifier ou effacer en nous écrivant."
)

# The honeypot: a field people never see (hidden with CSS, out of the tab order). Robots
# fill it; when it is filled we pretend success and store nothing.
HONEYPOT_FIELD = "site_web"

KIND_ERRORS = {"invalid_choice": _("Choisissez un type de demande dans la liste.")}
EMAIL_ERRORS = {"invalid": _("Saisissez une adresse e-mail valide (ex. nom@exemple.fr).")}


class AttachmentsField(MultipleFileField):
    """Several files, at most MAX_FILES, each at most 10 Mo (the inbox's limit) and checked
    by content (core.uploads)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", _("Pièces jointes"))
        kwargs.setdefault("help_text", _("Jusqu'à %(n)s fichiers, 10 Mo maximum chacun.")
                          % {"n": MAX_FILES})
        kwargs.setdefault("max_files", MAX_FILES)
        super().__init__(*args, **kwargs)


# A request body bigger than every allowed file plus the text fields is refused before it is
# parsed (Django limits the text fields, not the uploaded files).
MAX_REQUEST_BYTES = MAX_FILES * MAX_ATTACHMENT_BYTES + 1024 * 1024
REQUEST_TOO_LARGE = _("Votre envoi est trop volumineux : joignez au plus %(n)s fichiers de "
                      "10 Mo chacun.") % {"n": MAX_FILES}


def request_too_large(request: HttpRequest) -> bool:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0) > MAX_REQUEST_BYTES
    except ValueError:
        return False


def too_large(form: forms.Form, field: str = "attachments") -> bool:
    """True when the only reason to refuse is an attachment over the size limit (→ 413)."""
    return form.has_error(field, "too_large")


class ContactForm(forms.Form):
    kind = forms.ChoiceField(label=_("Type de demande"), choices=REQUEST_KINDS,
                             initial=Kind.QUESTION.value, error_messages=KIND_ERRORS)
    name = forms.CharField(label=_("Nom et prénom"), max_length=200,
                           widget=forms.TextInput(attrs={"autocomplete": "name"}))
    email = forms.EmailField(label=_("Adresse e-mail"), max_length=254,
                             widget=forms.EmailInput(attrs={"autocomplete": "email"}),
                             error_messages=EMAIL_ERRORS,
                             help_text=_("Nous vous répondrons à cette adresse."))
    phone = forms.CharField(label=_("Téléphone"), max_length=30, required=False,
                            widget=forms.TextInput(attrs={"autocomplete": "tel",
                                                          "inputmode": "tel"}),
                            help_text=_("Facultatif, si vous préférez être rappelé(e)."))
    subject = forms.CharField(label=_("Objet"), max_length=250)
    message = forms.CharField(label=_("Message"), max_length=MAX_MESSAGE_CHARS,
                              widget=forms.Textarea(attrs={"rows": 8}))
    attachments = AttachmentsField()
    consent = forms.BooleanField(
        label="", help_text=CONSENT_HELP,
        error_messages={"required": _("Votre accord est nécessaire pour que nous puissions "
                                      "traiter votre demande.")})
    site_web = forms.CharField(label=_("Ne pas remplir ce champ"), required=False,
                               widget=forms.TextInput(attrs={"tabindex": "-1",
                                                             "autocomplete": "off"}))

    def __init__(self, *args: Any, account_name: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.consent_text = str(CONSENT_TEXT) % {"account": account_name}
        self.fields["consent"].label = self.consent_text

    def clean_phone(self) -> str:
        value: str = self.cleaned_data.get("phone", "")
        return normalise_phone(value) if value.strip() else ""

    def clean_subject(self) -> str:
        return " ".join(self.cleaned_data["subject"].split())

    def clean_message(self) -> str:
        value: str = self.cleaned_data["message"].strip()
        if not value:
            raise ValidationError(_("Écrivez votre message."), code="required")
        return value
