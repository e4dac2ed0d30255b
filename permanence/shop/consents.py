"""What a buyer accepts when ordering, and the version of each text: the CGV (versioned by
the catalog, immutable once published) and the privacy notice (the public page
« confidentialite », editable: its version is core.consent.text_version of the wording
ticked and of the notice as published at that moment, so an edit of either gives a new
version; the notice's past texts are in the audit log of the page's edits)."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from permanence.catalog.models import TermsVersion
from permanence.catalog.selectors import published_page_or_none
from permanence.core.consent import text_version

from .models import ConsentPurpose

PRIVACY_PAGE = "confidentialite"
TERMS_TEXT = _("J'ai lu et j'accepte les conditions générales de vente.")
PRIVACY_TEXT = _("J'ai pris connaissance de la politique de confidentialité : mes données "
                 "sont traitées pour exécuter ma commande et gérer mon abonnement.")
PRIVACY_REQUIRED = _("Vous devez prendre connaissance de la politique de confidentialité "
                     "pour commander.")


@dataclass(frozen=True)
class Accepted:
    """One acceptance, as recorded on the order (shop.OrderConsent)."""

    purpose: str
    version: str
    text: str


def terms_acceptance(terms: TermsVersion, text: object = TERMS_TEXT) -> Accepted:
    return Accepted(ConsentPurpose.TERMS, terms.version, str(text))


def privacy_acceptance() -> Accepted:
    """The privacy notice as it reads now (its French text, the reference version)."""
    text = str(PRIVACY_TEXT)
    page = published_page_or_none(PRIVACY_PAGE)
    notice = f"{page.title}\n{page.body}" if page is not None else ""
    return Accepted(ConsentPurpose.PRIVACY, text_version(f"{text}\n{notice}"), text)
