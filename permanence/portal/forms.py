"""Forms of the espace client's "Mes demandes" and "Activité"."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from permanence.channels_webform.forms import (
    KIND_ERRORS,
    MAX_MESSAGE_CHARS,
    REQUEST_KINDS,
    AttachmentsField,
)
from permanence.inbox.instructions import MAX_INSTRUCTION_CHARS
from permanence.inbox.models import Kind


class RequestForm(forms.Form):
    kind = forms.ChoiceField(label=_("Type de demande"), choices=REQUEST_KINDS,
                             initial=Kind.QUESTION.value, error_messages=KIND_ERRORS)
    subject = forms.CharField(label=_("Objet"), max_length=250)
    body = forms.CharField(label=_("Message"), max_length=MAX_MESSAGE_CHARS,
                           widget=forms.Textarea(attrs={"rows": 8}))
    attachments = AttachmentsField()


class RequestReplyForm(forms.Form):
    body = forms.CharField(label=_("Votre message"), max_length=MAX_MESSAGE_CHARS,
                           widget=forms.Textarea(attrs={"rows": 5}))
    attachments = AttachmentsField()


class InstructionForm(forms.Form):
    body = forms.CharField(
        label=_("Consigne pour ce dossier"), max_length=MAX_INSTRUCTION_CHARS,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Pour nos télésecrétaires uniquement : jamais transmise à votre contact."))
