"""Bot quality fixtures: the FAQ of a medical practice served by a télésecrétariat (32
articles) and 100 questions written as visitors type them (paraphrases, synonyms, typos, no
accents), 16 of them out of scope or asking for a person: those must be handed over."""

from __future__ import annotations

# key: (title, body HTML)
ARTICLES: dict[str, tuple[str, str]] = {
    "horaires": ("Horaires d'ouverture du cabinet",
                 "<p>Le cabinet est ouvert du lundi au vendredi de 8 h à 12 h 30 et de 13 h 30 à "
                 "19 h, et le samedi matin de 8 h à 12 h. Il est fermé le dimanche et les jours "
                 "fériés.</p>"),
    "prise_rdv": ("Prendre rendez-vous",
                  "<p>Vous pouvez prendre rendez-vous en ligne sur notre page de réservation, 24 h "
                  "sur 24, ou par téléphone auprès du secrétariat aux heures d'ouverture. "
                  "Choisissez le médecin et le motif de consultation.</p>"),
    "annulation": ("Annuler un rendez-vous",
                   "<p>Pour annuler votre rendez-vous, utilisez le lien reçu dans l'e-mail ou le "
                   "SMS de confirmation, ou appelez le secrétariat au moins 24 heures à l'avance. "
                   "Un créneau libéré profite à un autre patient.</p>"),
    "deplacer": ("Déplacer ou modifier un rendez-vous",
                 "<p>Vous souhaitez changer la date ou l'heure de votre rendez-vous ? Utilisez le "
                 "lien de gestion reçu par SMS pour choisir un autre créneau, ou contactez le "
                 "secrétariat qui reportera votre consultation.</p>"),
    "tarifs": ("Tarifs des consultations",
               "<p>Les médecins sont conventionnés secteur 1 : la consultation coûte 30 €, sans "
               "dépassement d'honoraires. La consultation d'un enfant de moins de 6 ans est à "
               "30 € également.</p>"),
    "paiement": ("Moyens de paiement acceptés",
                 "<p>Vous pouvez régler par carte bancaire (sans contact accepté), par chèque ou en "
                 "espèces. Le paiement se fait à la fin de la consultation.</p>"),
    "urgences": ("En cas d'urgence",
                 "<p>En cas d'urgence vitale (douleur dans la poitrine, difficulté à respirer, "
                 "malaise, accident grave), appelez immédiatement le 15 (SAMU) ou le 112. Le "
                 "cabinet n'assure pas les urgences. La nuit et le week-end, contactez le médecin "
                 "de garde en appelant le 116 117.</p>"),
    "ordonnance": ("Renouvellement d'ordonnance",
                   "<p>Le renouvellement d'un traitement nécessite une consultation : le médecin "
                   "doit vous examiner avant de prescrire à nouveau vos médicaments. Prenez "
                   "rendez-vous avant la fin de votre ordonnance.</p>"),
    "resultats": ("Résultats d'analyses et d'examens",
                  "<p>Les résultats de vos analyses de sang ou d'examens sont transmis au médecin "
                  "par le laboratoire. Le médecin vous rappelle si un résultat nécessite une "
                  "action ; sinon ils seront commentés lors de votre prochaine consultation.</p>"),
    "adresse": ("Adresse et accès au cabinet",
                "<p>Le cabinet se situe au 14 rue des Lilas, 69003 Lyon, au 2e étage. Accès en "
                "métro ligne B, station Place Guichard, ou en bus C9 arrêt Lilas.</p>"),
    "parking": ("Stationnement près du cabinet",
                "<p>Un parking public payant se trouve à 100 mètres, rue Paul Bert. Quelques "
                "places de stationnement gratuites sont disponibles dans la rue le samedi.</p>"),
    "teleconsultation": ("Téléconsultation",
                         "<p>Les médecins proposent des téléconsultations en vidéo pour les suivis "
                         "et les renouvellements simples. Réservez un créneau « Téléconsultation » "
                         "en ligne ; vous recevrez un lien de visio par e-mail. Elle est remboursée "
                         "comme une consultation au cabinet.</p>"),
    "mutuelle": ("Mutuelle et tiers payant",
                 "<p>Le tiers payant est appliqué pour la part de l'Assurance maladie aux patients "
                 "en ALD, aux femmes enceintes et aux bénéficiaires de la Complémentaire santé "
                 "solidaire. La part mutuelle reste à avancer, vous serez remboursé par votre "
                 "complémentaire.</p>"),
    "documents": ("Documents à apporter",
                  "<p>Pensez à apporter votre carte Vitale, une pièce d'identité, votre carnet de "
                  "santé, la liste de vos médicaments et vos derniers résultats d'examens.</p>"),
    "retard": ("Vous êtes en retard",
               "<p>Si vous avez du retard, prévenez le secrétariat. Au-delà de 15 minutes de "
               "retard, le médecin pourra vous proposer un autre rendez-vous afin de ne pas "
               "pénaliser les patients suivants.</p>"),
    "domicile": ("Visites à domicile",
                 "<p>Les visites à domicile sont réservées aux patients qui ne peuvent pas se "
                 "déplacer (personnes âgées, alitées). Faites la demande par téléphone avant 10 h "
                 "pour une visite dans la journée.</p>"),
    "certificat": ("Certificat médical de sport",
                   "<p>Le certificat de non contre-indication à la pratique du sport nécessite "
                   "une consultation. Apportez le formulaire de votre club ou de votre "
                   "fédération.</p>"),
    "vaccination": ("Vaccination",
                    "<p>Les médecins réalisent les vaccinations : grippe, rappels DTP, vaccins "
                    "des nourrissons. Apportez le vaccin prescrit acheté en pharmacie et votre "
                    "carnet de vaccination.</p>"),
    "enfants": ("Consultations des enfants",
                "<p>Les médecins suivent les enfants et les nourrissons : examens obligatoires, "
                "courbes de croissance, certificats. Apportez le carnet de santé de "
                "l'enfant.</p>"),
    "nouveau_patient": ("Nouveaux patients et médecin traitant",
                        "<p>Le Dr Martin accepte de nouveaux patients dans la limite de ses "
                        "disponibilités. Pour le déclarer comme médecin traitant, remplissez "
                        "le formulaire lors de votre première consultation.</p>"),
    "pmr": ("Accessibilité aux personnes handicapées",
            "<p>Le cabinet est accessible aux personnes à mobilité réduite : ascenseur depuis le "
            "hall, porte élargie, toilettes adaptées pour les fauteuils roulants.</p>"),
    "arret_travail": ("Arrêt de travail",
                      "<p>Un arrêt de travail ne peut être prescrit qu'après une consultation, "
                      "au cabinet ou en téléconsultation. Il n'est pas possible de l'antidater. "
                      "Envoyez les volets à votre employeur et à votre caisse sous 48 "
                      "heures.</p>"),
    "feuille_soins": ("Feuille de soins et facture",
                      "<p>Si votre carte Vitale n'a pas pu être lue, le médecin vous remet une "
                      "feuille de soins papier à envoyer à votre caisse. Une facture acquittée "
                      "peut être délivrée sur demande.</p>"),
    "absence_medecin": ("Absence du médecin et remplacements",
                        "<p>Pendant les congés du Dr Martin, un médecin remplaçant assure les "
                        "consultations aux horaires habituels. Les dates de vacances sont "
                        "indiquées sur la page de réservation.</p>"),
    "delai": ("Délai pour obtenir un rendez-vous",
              "<p>Le délai habituel est de 2 à 5 jours. Des créneaux du jour sont réservés "
              "chaque matin aux patients malades : appelez dès 8 h pour en bénéficier.</p>"),
    "contact": ("Contacter le secrétariat",
                "<p>Pour nous joindre, le secrétariat répond au téléphone au 04 72 00 00 01 aux "
                "heures d'ouverture. Vous pouvez "
                "aussi laisser un message écrit via le formulaire de contact : nous vous "
                "rappelons dans la journée.</p>"),
    "dossier": ("Dossier médical et confidentialité",
                "<p>Votre dossier médical est conservé de façon sécurisée et couvert par le "
                "secret médical. Vous pouvez demander une copie de votre dossier ou exercer vos "
                "droits sur vos données personnelles (RGPD) par écrit.</p>"),
    "langues": ("Langues parlées",
                "<p>Les consultations peuvent se dérouler en français, en anglais ou en "
                "espagnol. Précisez la langue souhaitée lors de la prise de rendez-vous.</p>"),
    "accompagnant": ("Venir accompagné",
                     "<p>Un proche peut vous accompagner pendant la consultation si vous le "
                     "souhaitez. Les mineurs doivent être accompagnés d'un parent ou d'un "
                     "tuteur légal.</p>"),
    "lapin": ("Rendez-vous non honoré",
              "<p>Un rendez-vous manqué sans prévenir empêche un autre patient d'être soigné. "
              "Après deux absences non excusées, la réservation en ligne peut vous être "
              "fermée.</p>"),
    "fievre": ("Fièvre et maladies contagieuses",
               "<p>Si vous avez de la fièvre, une toux ou une maladie contagieuse (grippe, "
               "varicelle), signalez-le à la prise de rendez-vous et portez un masque en salle "
               "d'attente.</p>"),
    "specialiste": ("Courrier pour un spécialiste",
                    "<p>Pour consulter un spécialiste dans le parcours de soins (cardiologue, "
                    "dermatologue…), le médecin traitant rédige un courrier d'adressage lors "
                    "d'une consultation.</p>"),
}

# (question, expected article key, or None: the bot must hand over)
QUESTIONS: list[tuple[str, str | None]] = [
    # horaires
    ("Quels sont vos horaires ?", "horaires"),
    ("vous etes ouvert le samedi ?", "horaires"),
    ("a quelle heure ferme le cabinet", "horaires"),
    ("Le cabinet est-il ouvert le dimanche ?", "horaires"),
    # prise de rendez-vous
    ("Comment prendre rendez-vous ?", "prise_rdv"),
    ("je voudrais prendre un rdv avec le docteur", "prise_rdv"),
    ("est ce qu'on peut reserver en ligne ?", "prise_rdv"),
    ("prendre rendez vous par internet", "prise_rdv"),
    # annulation
    ("Comment annuler mon rendez-vous ?", "annulation"),
    ("je dois annuler mon rdv de demain", "annulation"),
    ("je ne pourrai pas venir, je veux decommander", "annulation"),
    ("anuler rendez vous", "annulation"),
    # déplacer
    ("Je voudrais déplacer mon rendez-vous", "deplacer"),
    ("est-il possible de changer l'heure de mon rdv", "deplacer"),
    ("reporter ma consultation a la semaine prochaine", "deplacer"),
    ("decaler mon rendez vous", "deplacer"),
    # tarifs
    ("Combien coûte une consultation ?", "tarifs"),
    ("quel est le prix de la consultation", "tarifs"),
    ("vous faites des depassements d'honoraires ?", "tarifs"),
    ("tarif consultation", "tarifs"),
    # paiement
    ("Peut-on payer par carte bancaire ?", "paiement"),
    ("vous acceptez les cheques ?", "paiement"),
    ("moyens de paiment acceptés", "paiement"),
    ("je peux regler en especes ?", "paiement"),
    # urgences
    ("C'est une urgence, que faire ?", "urgences"),
    ("mon pere a mal dans la poitrine", "urgences"),
    ("urgence le week-end qui appeler", "urgences"),
    ("medecin de garde la nuit", "urgences"),
    # ordonnance
    ("Je voudrais renouveler mon ordonnance", "ordonnance"),
    ("renouvellement de traitement sans rendez-vous ?", "ordonnance"),
    ("il me faut une nouvelle ordonance pour mes medicaments", "ordonnance"),
    # résultats
    ("Comment avoir mes résultats d'analyses ?", "resultats"),
    ("resultats prise de sang", "resultats"),
    ("le labo a envoye mes resultats ?", "resultats"),
    # adresse
    ("Quelle est l'adresse du cabinet ?", "adresse"),
    ("comment venir au cabinet en metro", "adresse"),
    ("ou se trouve le cabinet", "adresse"),
    ("adresse", "adresse"),
    # parking
    ("Où se garer ?", "parking"),
    ("y a t il un parking", "parking"),
    ("stationnement voiture", "parking"),
    # téléconsultation
    ("Faites-vous des téléconsultations ?", "teleconsultation"),
    ("consultation en visio possible ?", "teleconsultation"),
    ("teleconsultaion remboursée ?", "teleconsultation"),
    # mutuelle
    ("Pratiquez-vous le tiers payant ?", "mutuelle"),
    ("est ce que je dois avancer la part mutuelle", "mutuelle"),
    ("tiers payant complementaire sante", "mutuelle"),
    # documents
    ("Que dois-je apporter à la consultation ?", "documents"),
    ("quels documents prevoir", "documents"),
    ("faut il amener la carte vitale", "documents"),
    # retard
    ("Je suis en retard, que faire ?", "retard"),
    ("j'ai 20 minutes de retard", "retard"),
    ("je vais arriver en retard", "retard"),
    # domicile
    ("Le médecin se déplace-t-il à domicile ?", "domicile"),
    ("visite a domicile pour ma mere agee", "domicile"),
    ("faites vous des visites a la maison", "domicile"),
    # certificat
    ("J'ai besoin d'un certificat médical pour le sport", "certificat"),
    ("certificat pour mon club de foot", "certificat"),
    # vaccination
    ("Faites-vous le vaccin contre la grippe ?", "vaccination"),
    ("vaccination du bebe", "vaccination"),
    # enfants
    ("Suivez-vous les enfants ?", "enfants"),
    ("consultation pediatrique pour mon fils", "enfants"),
    # nouveau patient
    ("Acceptez-vous de nouveaux patients ?", "nouveau_patient"),
    ("je cherche un medecin traitant", "nouveau_patient"),
    # pmr
    ("Le cabinet est-il accessible en fauteuil roulant ?", "pmr"),
    ("y a-t-il un ascenseur", "pmr"),
    # arrêt de travail
    ("J'ai besoin d'un arrêt de travail", "arret_travail"),
    ("arret maladie sans consultation ?", "arret_travail"),
    # feuille de soins
    ("Ma carte vitale ne marche pas, feuille de soins ?", "feuille_soins"),
    ("je voudrais une facture acquittee", "feuille_soins"),
    # absence du médecin
    ("Le docteur est en vacances ?", "absence_medecin"),
    ("qui remplace le dr martin pendant ses conges", "absence_medecin"),
    # délai
    ("Quel est le délai pour avoir un rendez-vous ?", "delai"),
    ("combien de temps d'attente pour un rdv", "delai"),
    ("je suis malade, rendez-vous dans la journee ?", "delai"),
    # contact
    ("Quel est votre numéro de téléphone ?", "contact"),
    ("comment joindre le secretariat", "contact"),
    # dossier
    ("Je veux une copie de mon dossier médical", "dossier"),
    ("mes donnees personnelles rgpd", "dossier"),
    # langues
    ("Do you speak English?", "langues"),
    ("consultation en espagnol possible", "langues"),
    # accompagnant
    ("Puis-je venir accompagné ?", "accompagnant"),
    # lapin
    ("J'ai oublié mon rendez-vous, que se passe-t-il ?", "lapin"),
    # fièvre
    ("J'ai de la fièvre et de la toux, je peux venir ?", "fievre"),
    # spécialiste
    ("Il me faut un courrier pour le cardiologue", "specialiste"),
    ("lettre pour un dermatologue", "specialiste"),
    # Out of scope, or asking for a person: hand-over.
    ("Quel temps fait-il aujourd'hui ?", None),
    ("Qui a gagné le match hier soir ?", None),
    ("Je veux parler à un conseiller", None),
    ("Je voudrais parler à un humain", None),
    ("passez moi quelqu'un s'il vous plait", None),
    ("une vraie personne svp", None),
    ("Vendez-vous des chaussures ?", None),
    ("recette de la tarte aux pommes", None),
    ("quel est le cours du bitcoin", None),
    ("blablabla", None),
    ("Pouvez-vous réparer ma chaudière ?", None),
    ("combien de kilometres entre Paris et Marseille", None),
    ("je cherche un emploi de plombier", None),
    ("horoscope du jour", None),
]
