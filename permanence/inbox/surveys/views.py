"""The public satisfaction survey (the link sent after resolution)."""

from __future__ import annotations

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from permanence.core.errors import DomainError, NotFound
from permanence.inbox.models_complaints import SurveyResponse

from . import services as surveys


class SurveyForm(forms.Form):
    csat = forms.TypedChoiceField(label=gettext_lazy("Êtes-vous satisfait(e) de notre réponse ?"),
                                  coerce=int,
                                  choices=[(i, str(i)) for i in range(1, 6)],
                                  widget=forms.RadioSelect)
    nps = forms.TypedChoiceField(
        label=gettext_lazy("Recommanderiez-vous nos services à un proche ? "
                           "(0 = pas du tout, 10 = tout à fait)"),
        coerce=int, choices=[(i, str(i)) for i in range(11)], widget=forms.RadioSelect,
        required=False, empty_value=None)
    comment = forms.CharField(label=gettext_lazy("Un commentaire ?"), required=False,
                              widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


def survey(request: HttpRequest, token: str) -> HttpResponse:
    item = SurveyResponse.objects.select_related("conversation__account").filter(
        token=token).first()
    if item is None:
        raise NotFound(_("Ce lien de satisfaction n'existe pas."))
    form = SurveyForm(request.POST or None)
    if not item.ask_nps:
        del form.fields["nps"]
    if item.answered_at:
        return render(request, "inbox/survey_done.html", {"survey": item})
    if request.method == "POST" and form.is_valid():
        try:
            surveys.survey_answer(token=token, csat=form.cleaned_data["csat"],
                                  comment=form.cleaned_data["comment"],
                                  nps=form.cleaned_data.get("nps"))
        except DomainError as exc:
            for key, msgs in exc.fields.items():
                for m in msgs:
                    form.add_error(key if key in form.fields else None, m)
        else:
            return redirect("survey", token=token)
    return render(request, "inbox/survey.html", {"survey": item, "form": form},
                  status=422 if form.errors else 200)
