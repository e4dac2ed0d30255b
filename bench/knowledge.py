"""Knowledge base: the bot's quality and speed, and the search's speed.

* quality: the medical practice's FAQ of permanence/knowledge/tests/bot_fixtures.py (32
  articles, 100 questions): top-1 accuracy on the 86 in-scope questions, and hand-over on the
  14 out-of-scope ones (or asking for a person);
* speed: the same FAQ drowned in 2,000 published articles of one account (other sectors'
  vocabulary: orders, building work, contracts…): bot answer p95 over the 100 questions
  (index built once per process, excluded and printed), and knowledge search p95
  (`search_articles`, the selector every page uses) over typical queries.
"""

from __future__ import annotations

import random
import time
from typing import Any

from .stats import percentile, summary_ms

N_ARTICLES = 2000
ROUNDS = 3
SEARCHES = ["rendez-vous", "annuler rendez vous", "ordonnance", "ordonace", "tarifs",
            "horaires d'ouverture", "livraison colis", "garantie", "parking", "devis travaux"]
FILLER = ["commande", "livraison", "colis", "retour", "remboursement", "garantie", "abonnement", "contrat", "devis", "chantier", "travaux", "plomberie", "electricite", "toiture", "isolation", "facture", "echeance", "litige", "avocat", "audience", "tribunal", "dossier", "succession", "divorce", "bail", "loyer", "proprietaire", "locataire", "assurance", "sinistre", "expertise", "fournisseur", "stock", "boutique", "produit", "taille", "couleur", "bougie", "parfum", "cadeau", "emballage", "promotion", "code", "reduction", "panier", "compte", "identifiant", "mot", "passe", "inscription", "newsletter", "catalogue", "atelier", "formation", "stage", "inscription", "salle", "reservation", "materiel", "location", "vehicule", "permis"]


def _account(slug: str) -> Any:
    from permanence.accounts.models import ClientAccount

    account, _created = ClientAccount.objects.get_or_create(
        slug=slug, defaults={"name": slug, "status": "actif"})
    return account


def _seed(account: Any, *, filler: int) -> dict[int, str]:
    """The FAQ (once) and `filler` generated articles; {article id: fixture key}."""
    from permanence.knowledge import html, services
    from permanence.knowledge.models import Article, ArticleStatus
    from permanence.knowledge.tests.bot_fixtures import ARTICLES

    by_title = dict(Article.objects.filter(account=account).values_list("title", "id"))
    keys: dict[int, str] = {}
    for key, (title, body) in ARTICLES.items():
        if title not in by_title:
            made = services.article_create(actor=None, account=account,
                                           data=services.ArticleData(title=title, body=body))
            by_title[title] = services.article_publish(actor=None, article=made).pk
        keys[by_title[title]] = key
    have = Article.objects.filter(account=account, title__startswith="Fiche ").count()
    rng = random.Random(13)
    rows = []
    for i in range(have, filler):
        words = rng.choices(FILLER, k=60)
        body = html.clean("<p>" + " ".join(words) + ".</p>")
        rows.append(Article(account=account, title=f"Fiche {i} : {' '.join(words[:4])}",
                            body=body, body_text=html.plain_text(body),
                            status=ArticleStatus.PUBLISHED))
    Article.objects.bulk_create(rows, batch_size=500)
    return keys


def _quality(account: Any, keys: dict[int, str]) -> tuple[float, float]:
    from permanence.knowledge import bot
    from permanence.knowledge.tests.bot_fixtures import QUESTIONS

    right = handed = 0
    in_scope = [(q, k) for q, k in QUESTIONS if k]
    out = [q for q, k in QUESTIONS if not k]
    for question, key in in_scope:
        result = bot.answer(account, question)
        right += (not result.handover) and keys.get(result.article_id or 0) == key
    for question in out:
        handed += bot.answer(account, question).handover
    return right / len(in_scope), handed / len(out)


def run_knowledge_bench() -> dict[str, Any]:
    from permanence.knowledge import bot, selectors
    from permanence.knowledge.tests.bot_fixtures import ARTICLES, QUESTIONS

    small = _account("bench-knowledge-faq")
    accuracy, handover = _quality(small, _seed(small, filler=0))
    big = _account("bench-knowledge-2000")
    keys = _seed(big, filler=N_ARTICLES - len(ARTICLES))
    bot.clear_cache()
    started = time.perf_counter()
    bot.answer(big, "horaires")
    build_ms = (time.perf_counter() - started) * 1000
    big_accuracy, big_handover = _quality(big, keys)
    answer_ms: list[float] = []
    for _round in range(ROUNDS):
        for question, _key in QUESTIONS:
            started = time.perf_counter()
            bot.answer(big, question)
            answer_ms.append((time.perf_counter() - started) * 1000)
    search_ms: list[float] = []
    for query in SEARCHES:
        selectors.search_articles(query, account=big, limit=10)  # warm-up
    for _round in range(ROUNDS):
        for query in SEARCHES:
            started = time.perf_counter()
            selectors.search_articles(query, account=big, limit=10)
            search_ms.append((time.perf_counter() - started) * 1000)
    print(f"  bot quality ({len(keys)} FAQ articles): top-1 {accuracy:.0%}, "
          f"hand-over {handover:.0%}; among {N_ARTICLES} articles: top-1 {big_accuracy:.0%}, "
          f"hand-over {big_handover:.0%}")
    print(f"  bot index build ({N_ARTICLES} articles): {build_ms:.0f} ms (once per process)")
    print(f"  bot answer: {summary_ms(answer_ms)}")
    print(f"  knowledge search: {summary_ms(search_ms)}")
    return {"accuracy": accuracy, "handover": handover,
            "answer_p95": round(percentile(answer_ms, 95), 1),
            "search_p95": round(percentile(search_ms, 95), 1)}


def run() -> list[tuple[str, str, str, bool]]:
    """`make bench` convention: [(name, value, target, ok), ...]."""
    r = run_knowledge_bench()
    return [
        ("knowledge bot top-1 accuracy (86 questions)", f"{r['accuracy']:.0%}", "≥ 80 %",
         r["accuracy"] >= 0.8),
        ("knowledge bot hand-over out of scope (14 questions)", f"{r['handover']:.0%}",
         "100 %", r["handover"] == 1),
        ("knowledge bot answer p95, 2,000 articles", f"{r['answer_p95']} ms", "< 50 ms",
         r["answer_p95"] < 50),
        ("knowledge search p95, 2,000 articles", f"{r['search_p95']} ms", "< 50 ms",
         r["search_p95"] < 50),
    ]
