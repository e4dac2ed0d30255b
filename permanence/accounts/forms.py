from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.template import loader
from django.utils.translation import gettext_lazy as _

from permanence.core import uploads
from permanence.core.mail import queue_email
from permanence.core.validators import normalise_phone

from .models import (
    AccountKind,
    AccountStatus,
    ClientAccount,
    ContactChannel,
    MembershipRole,
    Role,
    Sector,
    User,
)


class EmailAuthenticationForm(AuthenticationForm):
    username = forms.EmailField(
        label=_("Adresse e-mail"),
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )
    error_messages = {
        "invalid_login": _("Adresse e-mail ou mot de passe incorrect."),
        "inactive": _("Ce compte est désactivé."),
    }


def axes_username(request: Any, credentials: dict[str, Any] | None = None) -> str:
    """The login name django-axes counts failures against (AXES_USERNAME_CALLABLE).

    Login is case-insensitive, so the count must be too: otherwise each way of writing the
    same address ("Agent@…", "AGENT@…") would get its own quota of attempts.
    """
    value = (credentials or {}).get("username")
    if value is None and request is not None:
        value = getattr(request, "POST", {}).get("username")
    return str(value or "").strip().lower()


class FrenchPasswordResetForm(PasswordResetForm):
    """Sends the reset e-mail from the worker (with retries), not inside the request."""

    def send_mail(self, subject_template_name: str, email_template_name: str,  # noqa: PLR0917 (Django's signature)
                  context: dict[str, Any], from_email: str | None, to_email: str,
                  html_email_template_name: str | None = None) -> None:


        subject = "".join(loader.render_to_string(subject_template_name, context).splitlines())
        body = loader.render_to_string(email_template_name, context)
        queue_email(to=[to_email], subject=subject, body=body)


class InvitationForm(FrenchPasswordResetForm):
    """The "choose your password" e-mail sent to a person we just gave access to.

    Invited users have no usable password yet, which Django's reset form skips: include them.
    """

    def get_users(self, email: str) -> Any:
        return User.objects.filter(email__iexact=email, is_active=True)


class AccountForm(forms.Form):
    name = forms.CharField(label=_("Nom"), max_length=200)
    slug = forms.SlugField(label=_("Identifiant (URL)"), max_length=80, required=False,
                           help_text=_("Généré depuis le nom si vide."))
    kind = forms.ChoiceField(label=_("Type de client"), choices=AccountKind.choices)
    sector = forms.ChoiceField(label=_("Secteur"), choices=Sector.choices)
    status = forms.ChoiceField(label=_("Statut"), choices=AccountStatus.choices)
    legal_name = forms.CharField(label=_("Raison sociale"), max_length=200, required=False)
    siret = forms.CharField(label=_("SIRET"), max_length=20, required=False,
                            help_text=_("14 chiffres, ex. 732 829 320 00074"))
    vat_number = forms.CharField(label=_("N° TVA intracommunautaire"), max_length=20,
                                 required=False)
    billing_address = forms.CharField(label=_("Adresse de facturation"), required=False,
                                      widget=forms.Textarea(attrs={"rows": 3}))
    billing_email = forms.EmailField(label=_("E-mail de facturation"), required=False)
    notes = forms.CharField(label=_("Notes internes"), required=False,
                            widget=forms.Textarea(attrs={"rows": 3}))
    assigned_agents = forms.ModelMultipleChoiceField(
        label=_("Télésecrétaires affectés"), required=False, queryset=User.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assigned_agents"].queryset = User.objects.filter(  # type: ignore[attr-defined]
            role=Role.AGENT, is_active=True
        ).order_by("full_name", "email")

    @classmethod
    def initial_for(cls, account: ClientAccount) -> dict[str, Any]:
        data = {name: getattr(account, name) for name in (
            "name", "slug", "kind", "sector", "status", "legal_name", "siret", "vat_number",
            "billing_address", "billing_email", "notes")}
        data["assigned_agents"] = list(account.assigned_agents.all())
        return data


class AgentsForm(forms.Form):
    assigned_agents = AccountForm.base_fields["assigned_agents"]


class ChannelForm(forms.Form):
    kind = forms.ChoiceField(label=_("Type"), choices=ContactChannel.Kind.choices)
    value = forms.CharField(label=_("Adresse ou numéro"), max_length=254)
    label = forms.CharField(label=_("Libellé"), max_length=80, required=False)


class ClientUserForm(forms.Form):
    email = forms.EmailField(label=_("E-mail"))
    full_name = forms.CharField(label=_("Nom"), max_length=150, required=False)
    role = forms.ChoiceField(label=_("Rôle"), choices=MembershipRole.choices)


def optional_phone(value: str) -> str:
    """A phone field: empty, or stored in E.164 (shown in the national format)."""
    return normalise_phone(value) if (value or "").strip() else ""


STAFF_ROLE_CHOICES = [(r.value, r.label) for r in (Role.ADMIN, Role.SUPERVISOR, Role.AGENT,
                                                    Role.BILLING)]


class StaffForm(forms.Form):
    email = forms.EmailField(label=_("E-mail"))
    full_name = forms.CharField(label=_("Nom complet"), max_length=150)
    phone = forms.CharField(label=_("Téléphone"), max_length=30, required=False)
    role = forms.ChoiceField(label=_("Rôle"), choices=STAFF_ROLE_CHOICES)
    is_active = forms.BooleanField(label=_("Actif"), required=False, initial=True)

    def clean_phone(self) -> str:
        return optional_phone(self.cleaned_data.get("phone", ""))


class OperatorForm(forms.Form):
    legal_name = forms.CharField(label=_("Raison sociale"), max_length=200)
    siren = forms.CharField(label=_("SIREN"), max_length=11, required=False)
    siret = forms.CharField(label=_("SIRET"), max_length=20, required=False)
    vat_number = forms.CharField(label=_("N° TVA intracommunautaire"), max_length=20,
                                 required=False)
    address = forms.CharField(label=_("Adresse"), required=False,
                              widget=forms.Textarea(attrs={"rows": 3}))
    iban = forms.CharField(label=_("IBAN"), max_length=42, required=False)
    support_email = forms.EmailField(label=_("E-mail du service client"), required=False)
    support_phone = forms.CharField(label=_("Téléphone du service client"), max_length=30,
                                    required=False)
    opening_hours_text = forms.CharField(label=_("Horaires d'ouverture (texte)"), required=False,
                                         widget=forms.Textarea(attrs={"rows": 2}))
    logo = forms.FileField(label=_("Logo (PNG ou JPEG, 1 Mo max.)"), required=False)

    def clean_support_phone(self) -> str:
        return optional_phone(self.cleaned_data.get("support_phone", ""))

    def clean_logo(self) -> Any:
        logo = self.cleaned_data.get("logo")
        if not logo:
            return None
        # By content, not by name (core.uploads): PNG or JPEG of at most 1 Mo and 16
        # megapixels (WeasyPrint decodes it for every invoice).
        try:
            checked = uploads.check(logo, uploads.LOGO, field="logo")
        except uploads.UploadRefused as exc:
            if exc.code in ("bad_type", "mismatch", "dangerous", "archive_unsupported"):
                raise forms.ValidationError(_("Le logo doit être une image PNG ou JPEG."),
                                            code=exc.code) from None
            raise uploads.validation_error(exc) from None
        # The stored name's extension comes from the content: the media server picks the
        # Content-Type from it, so a PNG named "logo.html" is never served as a page.
        logo.name = "logo.png" if checked.content_type == uploads.PNG else "logo.jpg"
        return logo


class ApiTokenForm(forms.Form):
    name = forms.CharField(label=_("Nom du jeton"), max_length=80,
                           help_text=_("Ex. « Intégration standard téléphonique »"))


class ProfileForm(forms.Form):
    full_name = forms.CharField(label=_("Nom complet"), max_length=150, required=False)
    phone = forms.CharField(label=_("Téléphone"), max_length=30, required=False)
    language = forms.ChoiceField(label=_("Langue"), choices=[("fr", "Français"),
                                                              ("en", "English")])
    notify_by_email = forms.BooleanField(
        label=_("Recevoir aussi mes notifications par e-mail"), required=False,
        help_text=_("Attributions, mentions, alertes de délai."))

    def clean_phone(self) -> str:
        return optional_phone(self.cleaned_data.get("phone", ""))


def apply_field_errors(form: forms.Form, fields: dict[str, list[str]], message: str) -> None:
    """Put a DomainError's field errors next to the form's inputs."""
    for key, msgs in fields.items():
        target = key if key in form.fields else None
        for msg in msgs:
            form.add_error(target, msg)
    if not fields:
        form.add_error(None, message)


class TwoFactorCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code à 6 chiffres"), max_length=12,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric",
                                      "autofocus": True, "spellcheck": "false"}),
    )


class TwoFactorLoginForm(forms.Form):
    code = forms.CharField(
        label=_("Code de l'application ou code de secours"), max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True,
                                      "spellcheck": "false", "autocapitalize": "off"}),
    )
