"""Full-text search (inbox/search.py) on whichever database is configured.

Run on both engines: SQLite (default) and PostgreSQL
(DATABASE_URL=postgres://postgres@127.0.0.1:5432/permanence_search).
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from permanence.inbox.models import Contact, Conversation
from permanence.inbox.search import parse_query, search_conversations

POSTGRES = connection.vendor == "postgresql"
_numbers = itertools.count(1)


def make_conversation(account: Any, subject: str, *, contact: Contact | None = None,
                      body: str = "", reference: str = "") -> Conversation:
    """A conversation whose search_text is laid out as services._search_text does."""
    reference = reference or f"D-2026-{next(_numbers) + 900000:06d}"
    now = timezone.now()
    parts = [reference, subject]
    if contact:
        parts += [contact.name, contact.email, contact.phone]
    header = " ".join(p for p in parts if p)
    return Conversation.objects.create(
        account=account, reference=reference, subject=subject, channel="email", contact=contact,
        created_at=now, updated_at=now, last_message_at=now,
        search_text=f"{header}\n{body}")


def make_contact(account: Any, name: str, email: str = "", phone: str = "") -> Contact:
    return Contact.objects.create(account=account, name=name, email=email, phone=phone)


def found(q: str, qs: Any = None, **kwargs: Any) -> set[str]:
    qs = Conversation.objects.all() if qs is None else qs
    return {c.reference for c in search_conversations(qs, q, **kwargs)}


@pytest.fixture
def convs(account: Any) -> dict[str, Conversation]:
    return {
        "claim": make_conversation(
            account, "Réclamation sur la facture de mars", reference="D-2026-000123",
            contact=make_contact(account, "Jean Dupont", "jean.dupont@example.fr",
                                 "+33612345678"),
            body="Bonjour, le montant facturé est faux.\nMerci de corriger ; mon parapluie "
                 "n'y est pour rien."),
        "neighbour": make_conversation(
            account, "Demande de devis", reference="D-2026-000124",
            contact=make_contact(account, "Élodie Bérard", "elodie@cabinet-berard.fr",
                                 "01 45 67 89 10"),
            body="Pouvez-vous m'envoyer un devis pour la permanence téléphonique ?"),
        "delivery": make_conversation(
            account, "Livraison en retard", reference="D-2025-000777",
            contact=make_contact(account, "Zoé Martin", phone="+33198765432"),
            body="Le colis n'est jamais arrivé. ÉTÉ COMPLIQUÉ."),
    }


def refs(convs: dict[str, Conversation], *names: str) -> set[str]:
    return {convs[n].reference for n in names}


# --- matching --------------------------------------------------------------------------------


@pytest.mark.parametrize("q", ["reclamation", "réclamation", "RECLAMATION", "Réclamation",
                               "RÉCLAMATION", "rEcLaMaTiOn"])
def test_accent_and_case_insensitive(convs: Any, q: str) -> None:
    assert found(q) == refs(convs, "claim")


def test_accents_in_the_query_match_plain_text_and_back(convs: Any) -> None:
    assert found("elodie") == refs(convs, "neighbour")
    assert found("bérard") == refs(convs, "neighbour")
    assert found("zoe") == refs(convs, "delivery")
    assert found("arrive") == refs(convs, "delivery")
    assert found("ete complique") == refs(convs, "delivery")


@pytest.mark.parametrize("q", ["factu", "fact", "FACTU", "récla", "recla", "parap"])
def test_last_word_is_a_prefix(convs: Any, q: str) -> None:
    assert refs(convs, "claim") <= found(q)
    assert convs["delivery"].reference not in found(q)


def test_prefix_of_last_word_after_whole_words(convs: Any) -> None:
    assert found("jean dup") == refs(convs, "claim")
    assert found("devis perman") == refs(convs, "neighbour")


def test_every_word_must_match(convs: Any) -> None:
    assert found("facture dupont") == refs(convs, "claim")
    assert found("facture livraison") == set()
    assert found("parapluie introuvablemot") == set()


def test_hyphenated_words(account: Any) -> None:
    conv = make_conversation(account, "Rendez-vous annulé", body="Jean-Pierre rappellera.")
    for q in ["rendez-vous", "Rendez-Vous annulé", "rendez", "jean-pierre", "jean-pi", "pierre"]:
        assert found(q) == {conv.reference}, q


def test_body_words(convs: Any) -> None:
    assert found("parapluie") == refs(convs, "claim")
    assert found("colis") == refs(convs, "delivery")
    assert found("téléphonique") == refs(convs, "neighbour")


@pytest.mark.parametrize("q", ["D-2026-000123", "d-2026-000123", " D-2026-000123 ",
                               "(D-2026-000123)", "«D-2026-000123»"])
def test_exact_reference(convs: Any, q: str) -> None:
    assert found(q) == refs(convs, "claim")


def test_reference_prefix_and_fragments(convs: Any) -> None:
    assert found("D-2026-00012") == refs(convs, "claim", "neighbour")
    assert found("D-2025") == refs(convs, "delivery")
    assert found("000777") == refs(convs, "delivery")  # digits of the reference
    assert found("D-2026-000999") == set()


@pytest.mark.parametrize("q", ["jean.dupont@example.fr", "JEAN.DUPONT@EXAMPLE.FR",
                               "dupont@exa", "jean.dupont", "@example.fr", "example.fr",
                               "<jean.dupont@example.fr>,"])
def test_email_and_fragments(convs: Any, q: str) -> None:
    assert found(q) == refs(convs, "claim")


def test_email_with_dashes(convs: Any) -> None:
    assert found("elodie@cabinet-berard.fr") == refs(convs, "neighbour")
    assert found("cabinet-berard.fr") == refs(convs, "neighbour")
    assert found("@cabinet-ber") == refs(convs, "neighbour")


@pytest.mark.parametrize("q", ["0612345678", "06 12 34 56 78", "06.12.34.56.78",
                               "06-12-34-56-78", "+33612345678", "+33 6 12 34 56 78",
                               "0033612345678", "612345678", "2345", "345678", "06 12"])
def test_phone_numbers_and_fragments(convs: Any, q: str) -> None:
    assert found(q) == refs(convs, "claim")


def test_phone_stored_with_spaces(convs: Any) -> None:
    assert found("0145678910") == refs(convs, "neighbour")
    assert found("01 45 67 89 10") == refs(convs, "neighbour")
    assert found("8910") == refs(convs, "neighbour")


def test_words_combined_with_phone_email_and_reference(convs: Any) -> None:
    assert found("facture 06 12 34 56 78") == refs(convs, "claim")
    assert found("devis 06 12 34 56 78") == set()
    assert found("dupont@example.fr facture") == refs(convs, "claim")
    assert found("D-2026-000123 parapluie") == refs(convs, "claim")
    assert found("D-2026-000123 colis") == set()
    # Stop words alone must not veto the other terms (PostgreSQL drops them).
    assert found("le 0612345678") == refs(convs, "claim")
    assert found("de D-2026-000123") == refs(convs, "claim")


@pytest.mark.skipif(not POSTGRES, reason="French stemming exists on PostgreSQL only; SQLite "
                                         "FTS5 has prefix matching but no stemmer")
@pytest.mark.parametrize("q", ["factures", "facturation", "facturer", "réclamations",
                               "corrigé", "retards", "livraisons"])
def test_french_stemming_postgresql(convs: Any, q: str) -> None:
    assert found(q) & (refs(convs, "claim") | refs(convs, "delivery"))
    assert convs["neighbour"].reference not in found(q)


# --- scope, safety, freshness ----------------------------------------------------------------


def test_search_never_widens_the_queryset(convs: Any, account: Any, other_account: Any) -> None:
    foreign = make_conversation(
        other_account, "Réclamation facture", reference="D-2026-000555",
        contact=make_contact(other_account, "Jean Dupont", "jean.dupont@example.fr",
                             "+33612345678"))
    mine = Conversation.objects.filter(account=account)
    for q in ["réclamation", "facture", "D-2026-000555", "jean.dupont@example.fr",
              "0612345678", "factu", "dupont", "dupont@exa", "5678"]:
        assert foreign.reference not in found(q, mine), q
    assert foreign.reference in found("D-2026-000555")
    assert foreign.reference in found("dupont@exa")
    assert found("facture", mine.filter(status="clos")) == set()
    assert found("facture", Conversation.objects.none()) == set()


def test_contact_details_found_in_the_text_only(account: Any) -> None:
    """Without a Contact row (deleted contact), full e-mails and numbers are still words."""
    conv = make_conversation(account, "Ancien dossier",
                             body="Écrire à paul.martin@example.org ou appeler le 0611223344.")
    assert found("paul.martin@example.org") == {conv.reference}
    assert found("0611223344") == {conv.reference}


@pytest.mark.parametrize("q", ["", " ", "\t\n ", "\u00a0"])
def test_empty_query_returns_the_queryset_unchanged(convs: Any, q: str) -> None:
    qs = Conversation.objects.filter(status="nouveau")
    assert search_conversations(qs, q) is qs


def test_stop_words_alone_filter_nothing(convs: Any) -> None:
    qs = Conversation.objects.filter(status="nouveau")
    assert search_conversations(qs, "le de") is qs
    assert search_conversations(qs, "d") is qs  # the first letter of "dupont"
    assert found("facture d") == refs(convs, "claim")
    assert found("la facture de mars") == refs(convs, "claim")


HOSTILE = [
    '"', "'", "(", ")", "*", "-", ":", "^", "+", "~", "\\", "%", "_", "&", "|", "!", "<->",
    "NEAR", "AND", "OR", "NOT", "NEAR(facture dupont)", "facture AND", "OR facture",
    "search_text:facture", "{search_text}: facture", "fac*ture", "*facture", '"facture',
    'facture"', "facture'", "l'appel", "'); DROP TABLE inbox_conversation; --",
    "facture & !dupont | (x:*)", "facture:*", "a:* & b", "%facture%", "_acture",
    "\x00", "fac\x00ture", "\ud800", "😀", "👨‍👩‍👧", "e\u0301", "中文 検索", "ﬁ", "²", "٣٤٥",
    "\u200b", "\u202e", "D-2026-", "D-", "++33", "00", "0", ".", "...", "@", "@@", "-1", "1-",
    "06 12 34 56 78 90 12 34 56 78 90", "'\"()*:^~-", "é" * 500, "a " * 250, "x" * 500,
    "😀" * 500, "0" * 500, "@" * 500, "D-2026-000123 " * 40, "(" * 500, '"' * 500,
]


@pytest.mark.parametrize("q", HOSTILE)
@pytest.mark.parametrize("ordered", [False, True])
def test_hostile_input_never_raises(convs: Any, account: Any, q: str, ordered: bool) -> None:
    qs = Conversation.objects.filter(account=account)
    result = list(search_conversations(qs, q, ordered=ordered))
    assert {c.account_id for c in result} <= {account.pk}


@pytest.mark.parametrize("q", ['"facture', 'facture"', "(facture)", "facture*", "-facture",
                               "facture:", "facture!", "*facture*", "[facture]", "«facture»"])
def test_punctuation_around_a_word_is_ignored(convs: Any, q: str) -> None:
    assert refs(convs, "claim") <= found(q)
    assert convs["delivery"].reference not in found(q)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(q=st.text(max_size=80))
def test_any_text_is_a_valid_query(convs: Any, q: str) -> None:
    list(search_conversations(Conversation.objects.all(), q))
    list(search_conversations(Conversation.objects.all(), q, ordered=True))


def test_updates_deletes_and_new_rows_are_seen(convs: Any, account: Any) -> None:
    conv = convs["delivery"]
    conv.search_text += "\nLe transporteur propose un nouveau créneau."
    conv.save()
    assert found("transporteur") == {conv.reference}
    assert found("colis") == {conv.reference}

    Conversation.objects.filter(pk=conv.pk).update(search_text="D-2025-000777 Autre chose\n")
    assert found("transporteur") == set()
    assert found("colis") == set()
    assert found("autre chose") == {conv.reference}

    conv.refresh_from_db()
    conv.status = "ouvert"  # saving without touching search_text keeps the index right
    conv.save()
    assert found("autre") == {conv.reference}

    fresh = make_conversation(account, "Rendez-vous annulé", body="Annulation du créneau.")
    assert found("annulation") == {fresh.reference}
    reference = fresh.reference
    fresh.delete()
    assert found("annulation") == set()
    assert reference not in found("rendez")


def test_one_query_per_search(convs: Any, account: Any,
                              django_assert_max_num_queries: Any) -> None:
    qs = Conversation.objects.filter(account=account).select_related("account", "contact")
    for q in ["facture", "facture dupont", "D-2026-000123", "jean.dupont@example.fr",
              "06 12 34 56 78", "le 0612345678 factu", "'\"()*"]:
        for ordered in (False, True):
            # PostgreSQL: the vocabulary (typos), the planner's estimates, the probe of a
            # contact term with few matches, then the query.
            with django_assert_max_num_queries(4 if POSTGRES else 1):
                list(search_conversations(qs.all(), q, ordered=ordered))


def test_callers_ordering_is_kept(account: Any) -> None:
    for subject in ["Rappel urgent", "Rappeler le patient", "Rappel du rendez-vous"]:
        make_conversation(account, subject)
    qs = Conversation.objects.order_by("-reference")
    result = [c.reference for c in search_conversations(qs, "rappel")]
    assert result == sorted(result, reverse=True)
    assert len(result) == 3


def test_ordered_puts_the_best_match_first(convs: Any, account: Any) -> None:
    once = make_conversation(account, "Question", body="Un mot sur la facture.")
    often = make_conversation(account, "Facture facture", body="Facture, facture, facture.")
    qs = Conversation.objects.filter(pk__in=[once.pk, often.pk]).order_by("reference")
    result = list(search_conversations(qs, "facture", ordered=True))
    assert [c.pk for c in result] == [often.pk, once.pk]
    assert result[0].search_rank >= result[1].search_rank
    # Without ordered=True the caller's order stands.
    assert [c.pk for c in search_conversations(qs, "facture")] == [once.pk, often.pk]


def test_search_can_be_used_as_a_subquery(convs: Any) -> None:
    inner = search_conversations(Conversation.objects.all(), "facture 0612345678")
    assert set(Conversation.objects.filter(pk__in=inner.values("pk"))
               .values_list("reference", flat=True)) == refs(convs, "claim")


def test_parse_query_classifies_terms() -> None:
    kinds = [(t.kind, t.text) for t in parse_query(
        "Facture D-2026-000123 jean@x.fr 06 12 34 56 78 12 l'appel (")]
    assert kinds == [("word", "Facture"), ("reference", "D-2026-000123"),
                     ("compound", "jean@x.fr"), ("phone", "0612345678"), ("word", "12"),
                     ("word", "l'appel")]
    assert parse_query("+33 6 12 34 56 78")[0].text == "+33612345678"
    assert parse_query("'\"()*") == []
    assert len(parse_query("mot " * 100)) <= 10


def test_search_schema_is_installed(db: Any) -> None:
    """The index/triggers exist after migrations. On SQLite, a later migration that remakes
    inbox_conversation drops the triggers: re-run inbox/0002_search's install_search then."""
    with connection.cursor() as cursor:
        if POSTGRES:
            cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s",
                           ["inbox_conversation_search_vector_gin"])
            (indexdef,) = cursor.fetchone()
            assert "gin (search_vector)" in indexdef  # stored by a trigger (inbox/0010)
            cursor.execute("SELECT to_tsvector('french_unaccent', 'Réclamations')::text")
            assert cursor.fetchone()[0] == "'reclam':1"
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' "
                           "AND tbl_name = 'inbox_conversation'")
            triggers = {row[0] for row in cursor.fetchall()}
            assert {"inbox_conversation_fts_ai", "inbox_conversation_fts_ad",
                    "inbox_conversation_fts_au"} <= triggers, (
                "FTS triggers missing: re-run inbox/0002_search install_search")
