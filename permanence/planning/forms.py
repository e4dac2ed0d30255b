"""Forms of the planning: a shift, and the staff pulse's questions."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from permanence.accounts.models import User

from .services import COMMENT_MAX, NOTE_MAX


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%d")


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self) -> None:
        super().__init__(format="%H:%M")


class ShiftForm(forms.Form):
    agent = forms.TypedChoiceField(label=_("Télésecrétaire"), coerce=int)
    day = forms.DateField(label=_("Jour"), widget=DateInput())
    starts_at = forms.TimeField(label=_("Début"), widget=TimeInput())
    ends_at = forms.TimeField(label=_("Fin"), widget=TimeInput(),
                              help_text=_("Une fin avant le début est le lendemain "
                                          "(service de nuit)."))
    note = forms.CharField(label=_("Note"), max_length=NOTE_MAX, required=False)

    def __init__(self, *args: Any, agents: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.agents = {a.pk: a for a in agents}
        field = self.fields["agent"]
        assert isinstance(field, forms.ChoiceField)  # noqa: S101 (declared above)  # nosec B101
        field.choices = [("", "—")] + [(a.pk, a.full_name or a.email) for a in agents]

    def agent_user(self) -> User:
        return self.agents[self.cleaned_data["agent"]]


SCORES = [(5, _("5 — Tout à fait d'accord")), (4, _("4 — Plutôt d'accord")),
          (3, _("3 — Ni d'accord ni pas d'accord")), (2, _("2 — Plutôt pas d'accord")),
          (1, _("1 — Pas du tout d'accord"))]


def _score(label: Any) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(label=label, choices=SCORES, coerce=int,
                                  widget=forms.RadioSelect)


class PulseForm(forms.Form):
    wellbeing = _score(_("Je me sens bien dans mon travail"))
    workload = _score(_("Ma charge de travail est raisonnable"))
    support = _score(_("Je me sens soutenu(e) par l'équipe"))
    comment = forms.CharField(label=_("Un commentaire (facultatif, anonyme)"),
                              max_length=COMMENT_MAX, required=False,
                              widget=forms.Textarea(attrs={"rows": 3}))


QUESTION_LABELS = {name: PulseForm.base_fields[name].label
                   for name in ("wellbeing", "workload", "support")}
