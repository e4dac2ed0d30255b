"""Forms of the agenda's set-up pages (resources, motifs, the account's settings)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from permanence.calendars.forms import CalendarForm


class ResourceForm(CalendarForm):
    name = forms.CharField(label=_("Nom (praticien, salle…)"), max_length=120)
    field_order = ["name", "timezone", "holidays"]

    def data_for_service(self) -> dict[str, Any]:
        return {"name": self.cleaned_data["name"], "timezone": self.cleaned_data["timezone"],
                "holidays": self.cleaned_data.get("holidays") or None,
                "weekly": self.weekly()}


class CaldavForm(forms.Form):
    caldav_url = forms.URLField(label=_("Adresse du calendrier CalDAV"), required=False,
                                max_length=500, assume_scheme="https",
                                help_text=_("Nextcloud, iCloud, Fastmail… l'adresse du "
                                            "calendrier lui-même."))
    caldav_username = forms.CharField(label=_("Identifiant"), required=False, max_length=200)
    caldav_password = forms.CharField(label=_("Mot de passe (d'application)"), required=False,
                                      max_length=500, widget=forms.PasswordInput,
                                      help_text=_("Laissez vide pour garder celui enregistré."))


class TypeForm(forms.Form):
    name = forms.CharField(label=_("Nom du motif"), max_length=120)
    duration_minutes = forms.IntegerField(label=_("Durée (minutes)"), min_value=1,
                                          max_value=1440, initial=30)
    buffer_before_minutes = forms.IntegerField(label=_("Battement avant"), min_value=0,
                                               max_value=1440, initial=0)
    buffer_after_minutes = forms.IntegerField(label=_("Battement après"), min_value=0,
                                              max_value=1440, initial=0)
    min_notice_minutes = forms.IntegerField(label=_("Délai minimum (minutes)"), min_value=0,
                                            max_value=525600, initial=60)
    horizon_days = forms.IntegerField(label=_("Réservable jusqu'à (jours)"), min_value=1,
                                      max_value=3650, initial=90)
    cancel_cutoff_minutes = forms.IntegerField(
        label=_("Annulation en ligne jusqu'à (minutes avant)"), min_value=0,
        max_value=525600, initial=1440)
    online = forms.BooleanField(label=_("Réservable en ligne"), required=False)
    questions = forms.CharField(label=_("Questions à poser (une par ligne)"), required=False,
                                max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))
    price_info = forms.CharField(label=_("Tarif"), required=False, max_length=200)
    resources = forms.MultipleChoiceField(label=_("Agendas qui le prennent"),
                                          widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args: Any, resources: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["resources"]
        assert isinstance(field, forms.MultipleChoiceField)  # noqa: S101 — declared above  # nosec B101
        field.choices = [(str(r.pk), r.name) for r in resources]

    def data_for_service(self) -> tuple[dict[str, Any], list[int]]:
        data = {k: v for k, v in self.cleaned_data.items() if k != "resources"}
        data["questions"] = [q.strip() for q in data["questions"].splitlines() if q.strip()]
        return data, [int(pk) for pk in self.cleaned_data["resources"]]


class SettingsForm(forms.Form):
    online_booking = forms.BooleanField(label=_("Page de réservation en ligne ouverte"),
                                        required=False)
    public_intro = forms.CharField(label=_("Texte d'accueil de la page"), required=False,
                                   max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
    email_reminder = forms.BooleanField(label=_("Rappel par e-mail la veille"),
                                        required=False)
    sms_reminder = forms.BooleanField(
        label=_("Rappel par SMS (deux jours avant si pris plus d'une semaine avant, sinon "
                "la veille)"), required=False)
    allowed_origins = forms.CharField(
        label=_("Sites autorisés à intégrer la page (un par ligne, https://…)"),
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
