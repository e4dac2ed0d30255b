from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from permanence.accounts.models import ClientAccount, User
from permanence.inbox.models import Channel

from .kpis import DEFINITIONS
from .models import ExportFormat, ExportFrequency, ObjectivePeriod


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%d")


class ReportFilterForm(forms.Form):
    """The period (whole local days), and optionally one account, one secretary, one channel.
    Choices are limited to what the viewer may see: anything else is a field error."""

    du = forms.DateField(label=_("Du"), required=False, widget=DateInput())
    au = forms.DateField(label=_("Au"), required=False, widget=DateInput())
    compte = forms.TypedChoiceField(label=_("Compte client"), coerce=int, required=False,
                                    empty_value=None)
    secretaire = forms.TypedChoiceField(label=_("Secrétaire"), coerce=int, required=False,
                                        empty_value=None)
    canal = forms.ChoiceField(label=_("Canal"), required=False)

    def __init__(self, data: Any, *, accounts: list[ClientAccount], staff: list[User],
                 today: date) -> None:
        super().__init__(data)
        self.today = today
        choices: dict[str, list[tuple[Any, Any]]] = {
            "compte": [("", _("Tous les comptes visibles"))] + [(a.pk, a.name) for a in accounts],
            "secretaire": [("", _("Toute l'équipe"))] + [(u.pk, u.full_name or u.email)
                                                         for u in staff],
            "canal": [("", _("Tous les canaux")), *Channel.choices]}
        for name, values in choices.items():
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)  # noqa: S101 (declared just above)  # nosec B101
            field.choices = values

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        end = data.get("au") or self.today
        start = data.get("du") or (end - timedelta(days=29))
        data["du"], data["au"] = start, end
        return data


def _indicators() -> list[tuple[str, str]]:
    return [(key, str(d.label)) for key, d in DEFINITIONS.items()]


TARGET_HELP = _("Dans l'unité affichée : un taux en % (80 pour 80 %), une durée en secondes, "
                "un nombre. Atteint au moins la cible, ou au plus pour les délais, abandons, "
                "réclamations et réouvertures.")


class ObjectiveForm(forms.Form):
    indicator = forms.ChoiceField(label=_("Indicateur"), choices=_indicators)
    target = forms.FloatField(label=_("Cible"), help_text=TARGET_HELP, min_value=-100,
                              max_value=10_000_000)
    period = forms.ChoiceField(label=_("Période"), choices=ObjectivePeriod.choices,
                               initial=ObjectivePeriod.MONTH)
    agent = forms.ModelChoiceField(label=_("Secrétaire"), required=False,
                                   queryset=User.objects.none(),
                                   empty_label=_("Toute l'équipe"))

    def __init__(self, *args: Any, staff: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        agent = self.fields["agent"]
        assert isinstance(agent, forms.ModelChoiceField)  # noqa: S101 (declared above)  # nosec B101
        agent.queryset = staff


class ChallengeForm(forms.Form):
    title = forms.CharField(label=_("Titre"), max_length=120)
    indicator = forms.ChoiceField(label=_("Indicateur"), choices=_indicators)
    target = forms.FloatField(label=_("Cible"), help_text=TARGET_HELP, min_value=-100,
                              max_value=10_000_000)
    starts_on = forms.DateField(label=_("Du"), widget=DateInput())
    ends_on = forms.DateField(label=_("Au"), widget=DateInput())
    reward = forms.CharField(label=_("Récompense"), max_length=300, required=False)


PLANNING_HORIZON_DAYS = 3 * 366
WEEKDAYS = [(1, _("Lundi")), (2, _("Mardi")), (3, _("Mercredi")), (4, _("Jeudi")),
            (5, _("Vendredi")), (6, _("Samedi")), (7, _("Dimanche"))]


class StaffingForm(forms.Form):
    """The forecast's assumptions; percentages typed as people say them (80 for 80 %)."""

    jour = forms.TypedChoiceField(label=_("Jour"), choices=WEEKDAYS, coerce=int)
    semaines = forms.IntegerField(label=_("Historique (semaines)"), min_value=1, max_value=26,
                                  initial=8)
    compte = forms.TypedChoiceField(label=_("Compte client"), coerce=int, required=False,
                                    empty_value=None)
    delai = forms.FloatField(label=_("Délai de réponse cible (s)"), min_value=0,
                             max_value=3600, initial=20)
    niveau = forms.FloatField(label=_("Niveau de service visé (%)"), min_value=1,
                              max_value=99.9, initial=80)
    indisponibilite = forms.FloatField(label=_("Indisponibilité (%)"), min_value=0,
                                       max_value=90, initial=30,
                                       help_text=_("Pauses, formation, absences : le temps "
                                                   "planifié passé hors téléphone."))
    occupation = forms.FloatField(label=_("Occupation maximale (%)"), min_value=10,
                                  max_value=100, initial=85)
    patience = forms.FloatField(label=_("Patience moyenne des appelants (s)"), required=False,
                                min_value=1, max_value=3600,
                                help_text=_("Si renseignée, Erlang A tient compte des "
                                            "appelants qui raccrochent ; sinon Erlang C."))

    le = forms.DateField(label=_("Comparer au planning du"), required=False, widget=DateInput(),
                         help_text=_("Par défaut, le prochain jour choisi ci-dessus."))

    def __init__(self, data: Any, *, accounts: list[ClientAccount], today: date) -> None:
        super().__init__(data)
        self.today = today
        compte = self.fields["compte"]
        assert isinstance(compte, forms.ChoiceField)  # noqa: S101 (declared above)  # nosec B101
        compte.choices = [("", _("Tous les comptes visibles"))] + [(a.pk, a.name)
                                                                  for a in accounts]
        self.fields["jour"].initial = (today + timedelta(days=1)).isoweekday()

    def clean_le(self) -> date | None:
        day: date | None = self.cleaned_data.get("le")
        if day is not None and abs((day - self.today).days) > PLANNING_HORIZON_DAYS:
            raise forms.ValidationError(_("Choisissez un jour dans les trois ans qui viennent "
                                          "ou passés."))
        return day

    def clean(self) -> dict[str, Any]:
        """The planning's day: the one given (its weekday is then the forecast's), else the
        next chosen weekday from today."""
        data = super().clean() or {}
        if data.get("le"):
            data["jour"] = data["le"].isoweekday()
        elif data.get("jour"):
            data["le"] = self.today + timedelta(days=(data["jour"] - self.today.isoweekday()) % 7)
        return data

CONTENTS = [("", _("Indicateurs (avec la période précédente et les formules)")),
            ("dossiers:", _("Demandes reçues (détail)")),
            ("dossiers:hors_delai", _("Premières réponses hors délai (détail)")),
            ("dossiers:reclamations", _("Réclamations (détail)")),
            ("appels:", _("Appels présentés (détail)")),
            ("appels:abandons", _("Appels abandonnés (détail)"))]


class ScheduledExportForm(forms.Form):
    """A report to receive by e-mail; the filters come from the indicators page."""

    contenu = forms.ChoiceField(label=_("Contenu"), choices=CONTENTS, required=False)
    compte = forms.TypedChoiceField(label=_("Compte client"), coerce=int, required=False,
                                    empty_value=None)
    canal = forms.ChoiceField(label=_("Canal"), required=False)
    frequence = forms.ChoiceField(label=_("Fréquence"), choices=ExportFrequency.choices,
                                  initial=ExportFrequency.MONTHLY)
    format = forms.ChoiceField(label=_("Format"), choices=ExportFormat.choices,
                               initial=ExportFormat.XLSX)

    def __init__(self, *args: Any, accounts: list[ClientAccount], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices: dict[str, list[tuple[Any, Any]]] = {
            "compte": [("", _("Tous les comptes visibles"))] + [(a.pk, a.name) for a in accounts],
            "canal": [("", _("Tous les canaux")), *Channel.choices]}
        for name, values in choices.items():
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)  # noqa: S101 (declared just above)  # nosec B101
            field.choices = values
