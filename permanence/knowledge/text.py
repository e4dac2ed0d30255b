"""French text for matching: accents folded, stop words dropped, a light stemmer, synonyms.

Pure functions, no database. The SQLite search (knowledge.search) turns query words into
stem prefixes with them (FTS5 has no French stemmer; « annulation » → "annul"* finds
« annuler », « annulé »), and the bot (knowledge.bot) scores articles on these tokens.
PostgreSQL stems with its own `french_unaccent` configuration.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_WORD = re.compile(r"[a-z0-9]+")

# French stop words (accents folded), plus the words of a question that say nothing of its
# subject (« comment », « que », « quel »…).
_STOP_TEXT = """
a au aux avec ce ces cet cette dans de des du elle elles en et eux il ils je la le les leur
leurs lui ma mais me mes moi mon ne nos notre nous on ou par pas pour qu que qui sa se ses
son sur ta te tes toi ton tu un une vos votre vous c d j l m n s t y suis es est sommes etes
sont ai as avons avez ont etait etre avoir fait faire faut peut peux pouvez puis veux voudrais
voudrait souhaite souhaiterais aimerais besoin comment quel quelle quels quelles quoi
estce bonjour bonsoir merci svp plait sil ca cela ceci ya
si plus tres bien aussi alors donc car chez the and or to of a is are can how what do i my
you your for in on at it be does please hello hi dois doit mon ma mes quand faites
possible possibles sans passe vais cherche
toujours encore deja
"""
STOP_WORDS = frozenset(_STOP_TEXT.split())

# Words of the same meaning for a télésecrétariat's FAQ (accents folded): each maps to the
# word it stands for. Applied to articles and questions alike (after stemming, see _SYNONYMS).
SYNONYM_GROUPS: dict[str, tuple[str, ...]] = {
    "rendez": ("rdv", "rendez", "creneau", "creneaux", "appointment"),
    "ligne": ("ligne", "internet", "site", "web", "online", "reserver", "reservation",
              "booking", "book"),
    "langue": ("langue", "langues", "anglais", "english", "espagnol", "spanish", "speak",
               "parlez", "parle", "francais", "etranger"),
    "manque": ("manque", "manquer", "oublie", "oublier", "oubli", "honore", "lapin"),
    "courrier": ("courrier", "lettre", "adressage", "specialiste", "cardiologue",
                 "dermatologue", "ophtalmologue", "gynecologue"),
    "annulation": ("annuler", "annule", "annulation", "decommander", "desister",
                   "desistement", "cancel", "cancellation"),
    "deplacer": ("deplacer", "reporter", "decaler", "modifier", "changer", "report"),
    "tarif": ("tarif", "tarifs", "prix", "cout", "coute", "coutent", "honoraires",
              "cher", "depassement", "price", "cost", "fee", "fees"),
    "paiement": ("paiement", "payer", "regler", "reglement", "carte", "cheque", "cheques",
                 "especes", "cb", "liquide", "payment", "pay"),
    "horaire": ("horaire", "horaires", "heure", "heures", "ouvert", "ouverte", "ouverture",
                "ferme", "fermeture", "open", "hours"),
    "urgence": ("urgence", "urgences", "urgent", "urgente", "grave", "samu", "emergency",
                "douleur", "douleurs", "mal", "malaise", "respirer", "garde"),
    "ordonnance": ("ordonnance", "ordonnances", "prescription", "renouvellement",
                   "renouveler", "medicament", "medicaments", "traitement"),
    "resultat": ("resultat", "resultats", "analyse", "analyses", "bilan", "examen",
                 "examens", "laboratoire", "labo"),
    "adresse": ("adresse", "situe", "situes", "trouve", "acces", "localisation",
                "itineraire", "plan", "metro", "bus", "address"),
    "parking": ("parking", "garer", "stationner", "stationnement", "voiture", "place",
                "places", "stationne"),
    "teleconsultation": ("teleconsultation", "teleconsultations", "visio", "video",
                         "visioconference", "distance", "ecran"),
    "mutuelle": ("mutuelle", "tiers", "complementaire", "remboursement", "rembourse",
                 "rembourses", "rembourser", "secu", "securite", "ameli", "cpam"),
    "document": ("document", "documents", "papiers", "apporter", "vitale", "identite",
                 "amener", "prevoir"),
    "retard": ("retard", "retards", "tard", "late"),
    "medecin": ("medecin", "medecins", "docteur", "dr", "praticien", "generaliste", "doctor"),
    "telephone": ("telephone", "appeler", "joindre", "numero", "tel", "phone", "call"),
    "enfant": ("enfant", "enfants", "bebe", "nourrisson", "pediatrie", "pediatrique"),
    "vaccin": ("vaccin", "vaccins", "vaccination", "vacciner", "rappel", "grippe"),
    "certificat": ("certificat", "certificats", "attestation", "sport", "aptitude"),
    "domicile": ("domicile", "maison", "chez-moi", "deplacement", "visite"),
    "handicap": ("handicap", "fauteuil", "pmr", "ascenseur", "mobilite", "handicape"),
    "arret": ("arret", "arrets", "travail", "maladie"),
    "dossier": ("dossier", "donnees", "rgpd", "confidentialite", "secret", "personnelles"),
    "facture": ("facture", "factures", "feuille", "soins", "recu", "invoice"),
    "nouveau": ("nouveau", "nouvelle", "nouveaux", "premiere", "premier", "traitant",
                "patientele", "inscrire"),
    "message": ("message", "messages", "repondeur", "mail", "email", "courriel", "ecrire"),
    "absence": ("absence", "absent", "vacances", "conges", "remplacant", "remplacement",
                "remplace"),
    "delai": ("delai", "delais", "attente", "attendre", "vite", "rapidement", "disponibilite",
              "disponible", "dispo"),
}


def fold(text: str) -> str:
    """Lower-case, accents removed (« Échéance » → "echeance"), ligatures expanded."""
    text = unicodedata.normalize("NFKD", (text or "").lower().replace("œ", "oe")
                                 .replace("æ", "ae"))
    return "".join(ch for ch in text if not unicodedata.combining(ch))


def words(text: str) -> list[str]:
    """The folded words of `text` (letters and digits runs), stop words included."""
    return _WORD.findall(fold(text))


# Longest first; a suffix is removed only when at least three letters remain.
_SUFFIX_TEXT = """
issements issement atrices ateurs atrice ateur ations ation logies logie ements ement
ments ment ances ance ences ence ites ite ives ive euses euse eux ables able ibles ible
iques ique ismes isme istes iste ees ee es er ez e s x aux al ent ons ais ait
"""
_SUFFIXES = sorted(_SUFFIX_TEXT.split(), key=len, reverse=True)


@lru_cache(maxsize=50_000)
def stem(word: str) -> str:
    """A light French stemmer on a folded word: the longest known suffix is cut once
    (« annulation », « annuler », « annulé » → "annul"). Not Snowball: the same function on
    both sides of a comparison is what matters."""
    if len(word) <= 3 or word.isdigit():
        return word
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def _synonym_stems() -> dict[str, str]:
    table: dict[str, str] = {}
    for canonical, members in SYNONYM_GROUPS.items():
        for member in (canonical, *members):
            table.setdefault(stem(member), stem(canonical))
    return table


_SYNONYMS = _synonym_stems()


def term_of(word: str) -> str:
    """The matching term of one folded word (stemmed, synonym resolved)."""
    term = stem(word)
    return _SYNONYMS.get(term, term)


def terms(text: str, *, synonyms: bool = True) -> list[str]:
    """The matching terms of `text`: folded words without stop words, stemmed, synonyms
    read as the word they stand for."""
    out: list[str] = []
    for word in words(text):
        if word in STOP_WORDS or len(word) < 2:
            continue
        term = stem(word)
        out.append(_SYNONYMS.get(term, term) if synonyms else term)
    return out


def search_words(text: str, *, max_words: int = 10) -> list[str]:
    """The words of a search query worth looking for (folded, no stop words), at most
    `max_words`, each at most 40 letters: only [a-z0-9] ever reaches a full-text query."""
    out: list[str] = []
    for word in words((text or "")[:400]):
        if word in STOP_WORDS or len(word) < 2 or word in out:
            continue
        out.append(word[:40])
    return out[:max_words]
