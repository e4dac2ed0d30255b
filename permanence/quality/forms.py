"""Forms of the quality app: grids and criteria, the scoring form (one select and one
comment per criterion), the agent's acknowledgement and the list's filters."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from permanence.accounts.models import ClientAccount, User

from .models import SCORE_CHOICES, Criterion
from .services import COACHING_MAX, COMMENT_MAX, REPLY_MAX, ScoreInput

NOT_APPLICABLE = "na"
VALUE_CHOICES = [("", _("— Choisir —")), *[(str(v), label) for v, label in SCORE_CHOICES],
                 (NOT_APPLICABLE, _("Sans objet"))]


class GridForm(forms.Form):
    name = forms.CharField(label=_("Nom de la grille"), max_length=120)
    account = forms.ModelChoiceField(
        label=_("Compte client"), required=False,
        queryset=ClientAccount.objects.filter(is_operator=False).order_by("name"),
        empty_label=_("Toutes (grille globale)"),
        help_text=_("Une grille propre à un compte remplace la grille globale pour ses "
                    "appels et dossiers."))


class GridEditForm(forms.Form):
    name = forms.CharField(label=_("Nom de la grille"), max_length=120)
    is_active = forms.BooleanField(label=_("Active"), required=False,
                                   help_text=_("Activer une grille retire l'autre grille "
                                               "active du même compte (ou la globale)."))


class CriterionForm(forms.Form):
    label = forms.CharField(label=_("Critère"), max_length=200)
    description = forms.CharField(label=_("Description"), max_length=1000, required=False,
                                  widget=forms.Textarea(attrs={"rows": 2}))
    weight = forms.IntegerField(label=_("Poids"), min_value=1, max_value=100, initial=1)
    order = forms.IntegerField(label=_("Ordre"), min_value=0, max_value=1000, initial=0)


class ReviewForm(forms.Form):
    """One select (0–4 or « Sans objet ») and one comment per criterion of the grid; for a
    conversation, who handled it."""

    def __init__(self, *args: Any, criteria: list[Criterion],
                 agents: list[User] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.criteria = criteria
        if agents is not None:
            self.fields["agent"] = forms.TypedChoiceField(
                label=_("Télésecrétaire évaluée"), coerce=int,
                choices=[("", _("— Choisir —"))] + [(u.pk, u.full_name or u.email)
                                                    for u in agents])
        for c in criteria:
            self.fields[f"score_{c.pk}"] = forms.ChoiceField(
                label=c.label, choices=VALUE_CHOICES, help_text=c.description)
            self.fields[f"comment_{c.pk}"] = forms.CharField(
                label=_("Commentaire"), required=False, max_length=COMMENT_MAX,
                widget=forms.Textarea(attrs={"rows": 2}))
        self.fields["coaching"] = forms.CharField(
            label=_("Notes de coaching"), required=False, max_length=COACHING_MAX,
            widget=forms.Textarea(attrs={"rows": 4}),
            help_text=_("Ce que la télésecrétaire peut faire pour progresser."))
        self.fields["mystery"] = forms.BooleanField(
            label=_("Appel mystère (appel test de l'opérateur ou du client)"), required=False)

    def rows(self) -> list[dict[str, Any]]:
        """The criteria with their two bound fields, for the template."""
        return [{"criterion": c, "score": self[f"score_{c.pk}"],
                 "comment": self[f"comment_{c.pk}"]} for c in self.criteria]

    def scores(self) -> dict[int, ScoreInput]:
        data = self.cleaned_data
        out = {}
        for c in self.criteria:
            raw = data.get(f"score_{c.pk}", "")
            value = None if raw == NOT_APPLICABLE else int(raw)
            out[c.pk] = ScoreInput(value=value, comment=data.get(f"comment_{c.pk}", ""))
        return out


class AcknowledgeForm(forms.Form):
    reply = forms.CharField(label=_("Votre réponse (facultatif)"), required=False,
                            max_length=REPLY_MAX, widget=forms.Textarea(attrs={"rows": 3}))


MYSTERY_CHOICES = [("", _("Toutes")), ("oui", _("Appels mystère")),
                   ("non", _("Hors appels mystère"))]


class ReviewFilterForm(forms.Form):
    agent = forms.TypedChoiceField(label=_("Télésecrétaire"), required=False, coerce=int,
                                   empty_value=None)
    compte = forms.TypedChoiceField(label=_("Compte"), required=False, coerce=int,
                                    empty_value=None)
    du = forms.DateField(label=_("Du"), required=False,
                         widget=forms.DateInput(attrs={"type": "date"}))
    au = forms.DateField(label=_("Au"), required=False,
                         widget=forms.DateInput(attrs={"type": "date"}))
    mystere = forms.ChoiceField(label=_("Type"), required=False, choices=MYSTERY_CHOICES)
    a_lire = forms.BooleanField(label=_("Non encore lues"), required=False)

    def __init__(self, *args: Any, agents: list[User] | None,
                 accounts: list[ClientAccount], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if agents is None:  # a secretary: her own reviews only
            del self.fields["agent"]
        else:
            cast("forms.ChoiceField", self.fields["agent"]).choices = [("", _("Toutes"))] + [
                (u.pk, u.full_name or u.email) for u in agents]
        cast("forms.ChoiceField", self.fields["compte"]).choices = [("", _("Tous"))] + [(a.pk, a.name) for a in accounts]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("du"), data.get("au")
        if start and end and end < start:
            self.add_error("au", _("La fin de la période précède son début."))
        return data
