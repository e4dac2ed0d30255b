"""Demo knowledge base: the medical practice's FAQ and a few internal procedures, the
operator's own FAQ. Created once (an account that has articles is left alone)."""

from __future__ import annotations

from permanence.accounts.models import ClientAccount, Role, User

from . import services
from .models import Article

Spec = tuple[str, str, str, str]  # category, title, body, visibility

PRACTICE: list[Spec] = [
    ("Cabinet", "Horaires d'ouverture du cabinet",
     "<p>Le cabinet est ouvert du lundi au vendredi de 8 h à 12 h 30 et de 13 h 30 à 19 h, "
     "et le samedi de 8 h à 12 h.</p>", "public"),
    ("Rendez-vous", "Prendre rendez-vous",
     "<p>Réservez en ligne sur notre page de réservation, ou appelez le secrétariat aux "
     "heures d'ouverture.</p>", "public"),
    ("Rendez-vous", "Annuler ou déplacer un rendez-vous",
     "<p>Utilisez le lien reçu par SMS ou prévenez le secrétariat au moins 24 heures à "
     "l'avance.</p>", "public"),
    ("Cabinet", "Tarifs et moyens de paiement",
     "<p>Consultation : 30 € (secteur 1). Carte bancaire, chèque et espèces acceptés.</p>",
     "public"),
    ("Urgences", "En cas d'urgence",
     "<p>En cas d'urgence vitale, appelez le 15 (SAMU) ou le 112. La nuit et le week-end, "
     "le médecin de garde répond au 116 117.</p>", "public"),
    ("Soins", "Renouvellement d'ordonnance",
     "<p>Le renouvellement d'un traitement nécessite une consultation, au cabinet ou en "
     "téléconsultation.</p>", "public"),
    ("Cabinet", "Adresse, accès et stationnement",
     "<p>14 rue des Lilas, 69003 Lyon (métro B, Place Guichard). Parking public rue Paul "
     "Bert.</p>", "public"),
    ("Procédures", "Appel d'un patient en détresse",
     "<p>Si le patient décrit une douleur thoracique, une gêne respiratoire ou un malaise : "
     "lui demander d'appeler le 15 immédiatement, puis prévenir le Dr Martin par SMS.</p>",
     "internal"),
    ("Procédures", "Demandes de résultats d'analyses",
     "<p>Ne jamais communiquer de résultat par téléphone. Noter la demande : le médecin "
     "rappelle le patient.</p>", "internal"),
]

OPERATOR: list[Spec] = [
    ("Service", "Qu'est-ce qu'un télésecrétariat ?",
     "<p>Nos télésecrétaires répondent à vos appels en votre nom, prennent vos rendez-vous et "
     "vous transmettent les messages.</p>", "public"),
    ("Service", "Comment résilier mon abonnement ?",
     "<p>Depuis votre espace client, rubrique Abonnement, ou par écrit : la résiliation prend "
     "effet à la fin du mois en cours.</p>", "public"),
    ("Procédures", "Prise d'appel : formule d'accueil",
     "<p>Décrocher avant la troisième sonnerie, annoncer le nom du client tel qu'indiqué "
     "dans ses consignes.</p>", "internal"),
]


def _seed(actor: User, account: ClientAccount | None, specs: list[Spec]) -> int:
    if Article.objects.filter(account=account).exists():
        return 0
    for category_name, title, body, visibility in specs:
        category = services.category_create(actor=actor, account=account, name=category_name)
        article = services.article_create(actor=actor, account=account, data=services.ArticleData(
            title=title, body=body, visibility=visibility, category_id=category.pk))
        services.article_publish(actor=actor, article=article)
    return len(specs)


def seed_knowledge() -> int:
    """Returns how many articles were written."""
    actor = User.objects.filter(role=Role.SUPERVISOR, is_active=True).order_by("pk").first()
    if actor is None:
        return 0
    written = _seed(actor, None, OPERATOR)
    practice = ClientAccount.objects.filter(slug="cabinet-martin").first()
    if practice is not None:
        written += _seed(actor, practice, PRACTICE)
    return written
