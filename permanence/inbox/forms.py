from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from permanence.core import uploads

from .models import Category, Channel, Kind, Motif, Priority, Status


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files, each checked by content (core.uploads) against `policy`; at most
    `max_files` when given. The first refused file is the field's error, with the refusal's
    code ("too_large" → 413 on the pages that say so)."""

    def __init__(self, *args: Any, policy: uploads.Policy = uploads.ATTACHMENT,
                 max_files: int | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)
        self.policy = policy
        self.max_files = max_files

    def clean(self, data: Any, initial: Any = None) -> Any:
        single = super().clean
        if isinstance(data, list | tuple):
            files = [single(d, initial) for d in data]
        else:
            files = [single(data, initial)] if data else []
        if self.max_files is not None and len(files) > self.max_files:
            raise ValidationError(_("Joignez au plus %(n)s fichiers."), code="too_many",
                                  params={"n": self.max_files})
        for upload in files:
            try:
                uploads.check(upload, self.policy)
            except uploads.UploadRefused as exc:
                raise uploads.validation_error(exc) from None
        return files


class ReplyForm(forms.Form):
    same_html_when_empty = True  # inbox_tags.form_fields may keep its empty HTML
    body = forms.CharField(label=_("Réponse"), widget=forms.Textarea(attrs={"rows": 6}))
    status_after = forms.ChoiceField(
        label=_("Puis"), required=False,
        choices=[("", _("Laisser le statut")), (Status.PENDING_CUSTOMER, _("En attente client")),
                 (Status.RESOLVED, _("Résolu"))])
    attachments = MultipleFileField(label=_("Pièces jointes"), required=False)


class NoteForm(forms.Form):
    same_html_when_empty = True  # inbox_tags.form_fields may keep its empty HTML
    body = forms.CharField(label=_("Note interne"), widget=forms.Textarea(attrs={"rows": 3}),
                           help_text=_("@prénom ou @e-mail pour prévenir un collègue"))


class QualifyForm(forms.Form):
    subject = forms.CharField(label=_("Objet"), max_length=250)
    priority = forms.ChoiceField(label=_("Priorité"), choices=Priority.choices)
    kind = forms.ChoiceField(label=_("Nature"), choices=Kind.choices)
    category = forms.ChoiceField(label=_("Catégorie"), required=False,
                                 choices=[("", "—"), *Category.choices])
    motif = forms.ChoiceField(label=_("Motif"), required=False, choices=[("", "—"),
                                                                         *Motif.choices])
    tags = forms.CharField(label=_("Étiquettes"), required=False,
                           help_text=_("Séparées par des virgules"))


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Statut"), choices=Status.choices)


class AssignForm(forms.Form):
    assignee = forms.IntegerField(label=_("Attribuer à"), required=False)


class MergeForm(forms.Form):
    target = forms.CharField(label=_("Fusionner dans le dossier (référence)"), max_length=20)
    inform_customer = forms.BooleanField(label=_("Informer le client"), required=False,
                                         initial=True)


class OrderLinkForm(forms.Form):
    order = forms.CharField(label=_("Référence de la commande (vide : délier)"), max_length=20,
                            required=False)


class PhoneMessageForm(forms.Form):
    account = forms.IntegerField(label=_("Compte client"))
    caller_name = forms.CharField(label=_("Nom de l'appelant"), max_length=200)
    caller_phone = forms.CharField(label=_("Numéro"), max_length=30, required=False)
    caller_email = forms.EmailField(label=_("E-mail"), required=False)
    reason = forms.CharField(label=_("Motif de l'appel"), max_length=250)
    message = forms.CharField(label=_("Message"), widget=forms.Textarea(attrs={"rows": 5}))
    urgent = forms.BooleanField(label=_("Urgent"), required=False)


class ManualEntryForm(forms.Form):
    """« Saisie manuelle »: a request received while the site or a channel was down."""

    account = forms.IntegerField(label=_("Compte client"))
    channel = forms.ChoiceField(label=_("Reçue par"), choices=[
        (Channel.PHONE, _("Téléphone")), (Channel.EMAIL, _("E-mail")),
        (Channel.POST, _("Courrier")), (Channel.OTHER, _("Autre"))])
    received_at = forms.DateTimeField(
        label=_("Reçue le"), help_text=_("Date et heure de réception d'origine (30 jours au "
                                         "plus), heure de Paris"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"))
    contact_name = forms.CharField(label=_("Nom du contact"), max_length=200, required=False)
    contact_email = forms.EmailField(label=_("E-mail du contact"), required=False)
    contact_phone = forms.CharField(label=_("Téléphone du contact"), max_length=30,
                                    required=False)
    subject = forms.CharField(label=_("Objet"), max_length=250)
    message = forms.CharField(label=_("Message"), widget=forms.Textarea(attrs={"rows": 6}))
    attachments = MultipleFileField(label=_("Pièces jointes"), required=False)
    source = forms.CharField(
        label=_("Source"), max_length=500, required=False,
        help_text=_("Par exemple : reçu sur le portable d'astreinte pendant la panne"))
    urgent = forms.BooleanField(label=_("Urgent"), required=False)
    acknowledge = forms.BooleanField(
        label=_("Envoyer l'accusé de réception maintenant"), required=False,
        help_text=_("Au contact, par e-mail, avec l'heure de réception d'origine"))


class BulkForm(forms.Form):
    action = forms.ChoiceField(choices=[("assign", "assign"), ("close", "close"),
                                        ("tag", "tag")])
    ids = forms.CharField()
    assignee = forms.IntegerField(required=False)
    tag = forms.CharField(required=False, max_length=50)

    def clean_ids(self) -> list[int]:
        try:
            return [int(x) for x in self.cleaned_data["ids"].split(",") if x.strip()][:200]
        except ValueError:
            raise forms.ValidationError(_("Sélection invalide.")) from None


class CallbackDoneForm(forms.Form):
    """« Rappel effectué »: the contact was called back; what was said, in a few words."""

    same_html_when_empty = True  # inbox_tags.form_fields may keep its empty HTML

    note = forms.CharField(label=_("Ce qui a été dit"), max_length=500,
                           widget=forms.Textarea(attrs={"rows": 2}))


class CallbackPlanForm(forms.Form):
    """« Rappeler plus tard »: when to call the contact back."""

    same_html_when_empty = True  # inbox_tags.form_fields may keep its empty HTML

    at = forms.DateTimeField(label=_("Rappeler le"), widget=forms.DateTimeInput(
        attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"))
    note = forms.CharField(label=_("Note (facultatif)"), max_length=500, required=False)
