"""Forms of the knowledge pages: the staff filters and editor, the public vote."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from permanence.accounts.models import STAFF_ROLES, ClientAccount, User

from .models import Article, ArticleStatus, Category, Language, Visibility

GLOBAL = "global"


class FilterForm(forms.Form):
    q = forms.CharField(label=gettext_lazy("Rechercher"), required=False, max_length=200)
    account = forms.ChoiceField(label=gettext_lazy("Compte"), required=False)
    visibility = forms.ChoiceField(label=gettext_lazy("Visibilité"), required=False,
                                   choices=[("", gettext_lazy("Toutes")), *Visibility.choices])
    status = forms.ChoiceField(label=gettext_lazy("Statut"), required=False,
                               choices=[("", gettext_lazy("Tous")), *ArticleStatus.choices])
    language = forms.ChoiceField(label=gettext_lazy("Langue"), required=False,
                                 choices=[("", gettext_lazy("Toutes")), *Language.choices])
    stale = forms.BooleanField(label=gettext_lazy("À relire"), required=False)

    def __init__(self, *args: Any, accounts: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["account"].choices = [  # type: ignore[attr-defined]
            ("", _("Tous")), (GLOBAL, _("Articles globaux (opérateur)")),
            *[(str(pk), name) for pk, name in accounts]]


class ArticleForm(forms.Form):
    account = forms.ChoiceField(label=gettext_lazy("Compte"), required=False)
    title = forms.CharField(label=gettext_lazy("Titre"), max_length=200)
    body = forms.CharField(label=gettext_lazy("Contenu (HTML simple : paragraphes, listes, "
                                              "liens)"), required=False,
                           widget=forms.Textarea(attrs={"rows": 14}), max_length=100_000)
    visibility = forms.ChoiceField(label=gettext_lazy("Visibilité"), choices=Visibility.choices)
    language = forms.ChoiceField(label=gettext_lazy("Langue"), choices=Language.choices)
    category = forms.ModelChoiceField(label=gettext_lazy("Catégorie"), required=False,
                                      queryset=Category.objects.none())
    new_category = forms.CharField(label=gettext_lazy("ou nouvelle catégorie"), required=False,
                                   max_length=120)
    translation_of = forms.ModelChoiceField(label=gettext_lazy("Traduction de"),
                                            required=False, queryset=Article.objects.none())
    related = forms.ModelMultipleChoiceField(label=gettext_lazy("Articles liés"),
                                             required=False, queryset=Article.objects.none())
    owner = forms.ModelChoiceField(label=gettext_lazy("Responsable"), required=False,
                                   queryset=User.objects.none())

    def __init__(self, *args: Any, accounts: list[tuple[str, str]] | None,
                 scope_account: ClientAccount | None = None, article: Article | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if accounts is None:  # editing: the account does not change
            del self.fields["account"]
        else:
            self.fields["account"].choices = accounts  # type: ignore[attr-defined]
            self.fields["account"].required = True
        if article is None:  # creating: links are set on the edit page, once the scope is known
            for name in ("category", "translation_of", "related", "owner"):
                del self.fields[name]
            return
        scope = Q(account__isnull=True) if scope_account is None else Q(account=scope_account)
        self.fields["category"].queryset = Category.objects.filter(  # type: ignore[attr-defined]
            Q(account__isnull=True) | scope)
        others = Article.objects.filter(scope).exclude(pk=article.pk).order_by("title")
        self.fields["translation_of"].queryset = others  # type: ignore[attr-defined]
        self.fields["related"].queryset = Article.objects.filter(  # type: ignore[attr-defined]
            Q(account__isnull=True) | scope).exclude(pk=article.pk).order_by("title")
        self.fields["owner"].queryset = User.objects.filter(  # type: ignore[attr-defined]
            role__in=STAFF_ROLES, is_active=True).order_by("full_name", "email")


class VoteForm(forms.Form):
    helpful = forms.TypedChoiceField(choices=[("oui", "oui"), ("non", "non")],
                                     coerce=lambda v: v == "oui")
    comment = forms.CharField(required=False, max_length=2000,
                              widget=forms.Textarea(attrs={"rows": 3}))
