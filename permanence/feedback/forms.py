"""Forms of the feedback app: the « Votre avis » form and the board's follow-up."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from permanence.accounts.models import Role, User

from .models import FeedbackStatus, Source

RATINGS = [(5, _("Très satisfait")), (4, _("Satisfait")), (3, _("Moyen")),
           (2, _("Déçu")), (1, _("Très déçu"))]


class FeedbackForm(forms.Form):
    rating = forms.TypedChoiceField(label=_("Votre note"), choices=RATINGS, coerce=int,
                                    widget=forms.RadioSelect)
    comment = forms.CharField(label=_("Un commentaire sur cette page (facultatif)"),
                              max_length=2000, required=False,
                              widget=forms.Textarea(attrs={"rows": 3}))
    page = forms.CharField(max_length=300, widget=forms.HiddenInput)
    source = forms.ChoiceField(choices=Source.choices, required=False,
                               widget=forms.HiddenInput)
    account = forms.IntegerField(required=False, min_value=1, max_value=2**62,
                                 widget=forms.HiddenInput)


class FollowUpForm(forms.Form):
    status = forms.ChoiceField(label=_("Statut"), choices=FeedbackStatus.choices)
    owner = forms.ModelChoiceField(label=_("Responsable"), required=False,
                                   queryset=User.objects.filter(
                                       role__in=(Role.ADMIN, Role.SUPERVISOR), is_active=True))
    theme = forms.CharField(label=_("Thème"), max_length=60, required=False)
    notes = forms.CharField(label=_("Notes"), max_length=4000, required=False,
                            widget=forms.Textarea(attrs={"rows": 3}))
