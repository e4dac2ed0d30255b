from django import forms
from django.utils.translation import gettext_lazy as _


class ChatSettingsForm(forms.Form):
    enabled = forms.BooleanField(label=_("Chat activé"), required=False)
    allowed_origins = forms.CharField(
        label=_("Sites autorisés"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Une adresse par ligne, par exemple https://www.cabinet-martin.fr : le "
                    "chat ne fonctionne que sur ces sites."))
    welcome_text = forms.CharField(label=_("Message d'accueil"), required=False, max_length=300)
    consent_text = forms.CharField(label=_("Texte du consentement"), required=False,
                                   max_length=400)
    capacity_per_agent = forms.IntegerField(label=_("Chats simultanés par secrétaire"),
                                            min_value=1, max_value=20, initial=3)
