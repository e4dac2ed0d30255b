"""Forms of the call screen: starting a call by hand, the call record. The motif's questions
and the triage questions come from the consignes in force, so they are read from the posted
data by `answers_from_post` (names `q-<motif>-<n>` and `t-<n>`) rather than declared."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Urgency


class CallStartForm(forms.Form):
    account_q = forms.CharField(label=_("Compte appelé (nom ou numéro)"), max_length=200,
                                required=False)
    account = forms.IntegerField(required=False, widget=forms.HiddenInput)
    from_number = forms.CharField(label=_("Numéro de l'appelant"), max_length=40,
                                  required=False)
    caller_name = forms.CharField(label=_("Nom de l'appelant"), max_length=120,
                                  required=False)


class CallRecordForm(forms.Form):
    motif = forms.CharField(max_length=40, required=False)
    caller_name = forms.CharField(label=_("Nom de l'appelant"), max_length=120,
                                  required=False)
    caller_phone = forms.CharField(label=_("Téléphone de l'appelant"), max_length=40,
                                   required=False)
    caller_email = forms.EmailField(label=_("E-mail de l'appelant"), required=False)
    message = forms.CharField(label=_("Message"), widget=forms.Textarea(attrs={"rows": 5}),
                              required=False)
    urgency = forms.ChoiceField(label=_("Urgence"), choices=Urgency.choices,
                                initial=Urgency.NORMAL, widget=forms.RadioSelect)
    recording_consent = forms.BooleanField(
        label=_("L'appelant a été informé de l'enregistrement de l'appel et l'accepte"),
        required=False)


def answers_from_post(data: Any, motifs: list[dict[str, Any]], triage: list[dict[str, Any]],
                      motif_code: str) -> dict[str, Any]:
    """{"questions": {question: answer}, "triage": {question: answer}} for the chosen motif."""
    questions: dict[str, str] = {}
    for motif in motifs:
        if motif.get("code") != motif_code:
            continue
        for n, question in enumerate(motif.get("questions") or []):
            questions[str(question)] = str(data.get(f"q-{motif_code}-{n}", ""))
    answers = {str(t["question"]): str(data.get(f"t-{n}", ""))
               for n, t in enumerate(triage)}
    return {"questions": questions, "triage": answers}
