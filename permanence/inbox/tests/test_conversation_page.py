"""The staff conversation page: secondary forms folded, one-click resolve and "Rouvrir",
the side panel (contact, their other conversations, the account's notes), and what a view
costs: at most one write, the view still reaching the audit log, queries constant."""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from permanence.audit.models import AuditEvent
from permanence.core import clock
from permanence.core.scheduler import REGISTRY
from permanence.inbox import services
from permanence.inbox.models import Channel, Conversation, ReadMarker, Status
from permanence.inbox.services import Incoming

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=PARIS)
NOW = datetime(2026, 11, 2, 15, 0, tzinfo=PARIS)


def open_conv(account: Any, at: datetime = T0, **extra: Any) -> Conversation:
    fields: dict[str, Any] = {"account": account, "channel": Channel.EMAIL,
                              "subject": "Demande", "body_text": "Bonjour",
                              "contact_email": "jean.dupont@exemple.fr",
                              "contact_name": "Jean Dupont"}
    fields.update(extra)
    with clock.frozen(at):
        return services.conversation_open(Incoming(**fields))


def login(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def get(client: Client, url: str, at: datetime = NOW) -> Any:
    with clock.frozen(at):
        return client.get(url, HTTP_USER_AGENT="Navigateur de test")


def post(client: Client, url: str, data: dict[str, Any], at: datetime = NOW) -> Any:
    with clock.frozen(at):
        return client.post(url, data)


def text(response: Any) -> str:
    return html.unescape(response.content.decode())


def fold(page: str, fold_id: str) -> str:
    """The opening tag of the <details> `fold_id`."""
    match = re.search(rf'<details [^>]*id="{fold_id}"[^>]*>', page)
    assert match, fold_id
    return match.group(0)


def fold_block(page: str, fold_id: str) -> str:
    """The whole <details> `fold_id`, to its end."""
    match = re.search(rf'<details [^>]*id="{fold_id}".*?</details>', page, re.S)
    assert match, fold_id
    return match.group(0)


def writes(ctx: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in ctx.captured_queries
            if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]


# --- Layout -------------------------------------------------------------------------------------

def test_secondary_forms_are_folded_until_needed(account: Any, agent: Any) -> None:
    c = open_conv(account)
    client = login(agent)
    page = text(get(client, f"/app/boite/{c.pk}/"))
    for fold_id, name in (("fold-qualify", "qualification"), ("fold-order", "commande"),
                          ("fold-merge", "fusion"), ("fold-history", "historique")):
        closed = fold_block(page, fold_id)
        assert " open" not in fold(page, fold_id), fold_id
        # Loaded when opened (htmx), or followed as a link without JavaScript.
        assert f'hx-get="/app/boite/{c.pk}/?ouvrir={name}"' in closed, fold_id
        assert f'href="/app/boite/{c.pk}/?ouvrir={name}#{fold_id}"' in closed, fold_id
        assert "<form" not in closed and "<li>" not in closed, fold_id
    # Opened, each form lives inside its fold; the split of a message is behind
    # "Autres actions".
    opened = text(get(client, f"/app/boite/{c.pk}/?ouvrir=qualification"))
    assert " open" in fold(opened, "fold-qualify") and " open" not in fold(opened, "fold-merge")
    assert re.search(r'id="fold-qualify".*?<summary>Qualification.*?action="/app/boite/'
                     rf'{c.pk}/qualifier/".*?</details>', opened, re.S)
    assert 'id="q-subject"' in fold_block(opened, "fold-qualify")
    opened = text(get(client, f"/app/boite/{c.pk}/?ouvrir=fusion"))
    assert re.search(r'id="fold-merge".*?action="/app/boite/' rf'{c.pk}/fusionner/"', opened,
                     re.S)
    history = text(get(client, f"/app/boite/{c.pk}/?ouvrir=historique"))
    assert " open" in fold(history, "fold-history") and "<li>" in fold_block(history,
                                                                             "fold-history")
    assert " open" not in fold(text(get(client, f"/app/boite/{c.pk}/?ouvrir=autre")),
                               "fold-qualify")
    assert re.search(r'<details class="msg-more"><summary>Autres actions</summary>'
                     r'<form method="post" action="/app/boite/message/\d+/scinder/"', page)
    # The reply and the note stay in view.
    assert 'id="reply-form"' in page and 'id="note-form"' in page
    # A form sent back with an error comes back unfolded, with its error and the value typed.
    bad = post(client, f"/app/boite/{c.pk}/qualifier/",
               {"subject": "Fuite", "priority": "extreme", "kind": "question"})
    assert bad.status_code == 422
    page = text(bad)
    assert " open" in fold(page, "fold-qualify")
    assert " open" not in fold(page, "fold-merge")
    assert "Sélectionnez un choix valide" in page and 'value="Fuite"' in page
    unknown = post(client, f"/app/boite/{c.pk}/fusionner/", {"target": "D-2026-999999"})
    assert " open" in fold(text(unknown), "fold-merge")
    assert "Aucun dossier visible avec cette référence." in text(unknown)
    # The folded forms still work as before.
    ok = post(client, f"/app/boite/{c.pk}/qualifier/",
              {"subject": "Fuite d'eau", "priority": "haute", "kind": "assistance",
               "category": "", "motif": "", "tags": "plomberie"})
    assert ok.status_code == 302
    c.refresh_from_db()
    assert (c.subject, c.priority) == ("Fuite d'eau", "haute")
    page = text(get(client, f"/app/boite/{c.pk}/?ouvrir=qualification"))
    assert '<option value="haute" selected>' in page and 'value="plomberie"' in page


def test_resolve_in_one_click_then_rouvrir_instead_of_the_reply_form(account: Any,
                                                                       agent: Any) -> None:
    c = open_conv(account)
    client = login(agent)
    url = f"/app/boite/{c.pk}/"
    page = text(get(client, url))
    # One button, one POST: no form to fill.
    resolve = re.search(r'<form method="post" action="/app/boite/\d+/statut/" '
                        r'class="conv-actions">(.*?)</form>', page, re.S)
    assert resolve and 'name="status" value="resolu"' in resolve.group(1)
    assert ">Résoudre</button>" in resolve.group(1)
    assert "Envoyer la réponse" in page and ">Rouvrir</button>" not in page
    assert post(client, url + "statut/", {"status": "resolu"}).status_code == 302
    c.refresh_from_db()
    assert c.status == Status.RESOLVED
    page = text(get(client, url))
    assert "Envoyer la réponse" not in page and 'id="reply-form"' not in page
    assert ">Résoudre</button>" not in page
    assert "Ce dossier est résolu." in page and ">Rouvrir</button>" in page
    assert 'id="note-form"' in page  # a note can still be added
    assert post(client, url + "statut/", {"status": "ouvert"}).status_code == 302
    c.refresh_from_db()
    assert c.status == Status.OPEN
    assert "Envoyer la réponse" in text(get(client, url))
    # Closed: "Rouvrir" too.
    with clock.frozen(NOW):
        services.conversation_set_status(actor=agent, conversation=c, status=Status.CLOSED)
    page = text(get(client, url))
    assert "Ce dossier est clos." in page and ">Rouvrir</button>" in page


def test_side_panel_shows_the_contact_their_other_conversations_and_the_account_notes(
        account: Any, other_account: Any, agent: Any, billing: Any) -> None:
    account.notes = "Dr Martin : jamais de RDV le mercredi.\nUrgences : 06 00 00 00 01"
    account.save()
    c = open_conv(account, contact_phone="0612345678")
    earlier = open_conv(account, T0 - timedelta(days=3), subject="Renouvellement ordonnance")
    merged = open_conv(account, T0 - timedelta(days=2), subject="Doublon fusionné")
    services.conversation_merge(actor=agent, source=merged, target=earlier,
                                inform_customer=False)
    stranger = open_conv(account, contact_email="autre@exemple.fr", subject="Autre personne")
    elsewhere = open_conv(other_account, subject="Ailleurs")
    page = text(get(login(agent), f"/app/boite/{c.pk}/"))
    start = page.index('<aside class="conv-side"')
    side = page[start:page.index("</aside>", start)]
    assert "jean.dupont@exemple.fr" in side and 'href="mailto:jean.dupont@exemple.fr"' in side
    assert "Jean Dupont" in side
    assert f'href="/app/boite/{earlier.pk}/"' in side and "Renouvellement ordonnance" in side
    for hidden in (merged, stranger, elsewhere, c):
        assert f'href="/app/boite/{hidden.pk}/"' not in side, hidden.subject
    assert "Toutes ses demandes" in side and "q=jean.dupont%40exemple.fr" in side
    assert "Dr Martin : jamais de RDV le mercredi." in side
    # Read-only staff see the panel, not the forms.
    billing_page = text(get(login(billing), f"/app/boite/{c.pk}/"))
    assert "Dr Martin : jamais de RDV le mercredi." in billing_page
    assert "fold-qualify" not in billing_page and ">Résoudre</button>" not in billing_page


def test_shortcuts_help_and_hooks_are_on_the_list_and_the_conversation(account: Any,
                                                                        agent: Any) -> None:
    c = open_conv(account)
    client = login(agent)
    for url in ("/app/boite/", f"/app/boite/{c.pk}/"):
        page = text(get(client, url))
        assert '<dialog id="kbd-help"' in page and 'aria-labelledby="kbd-help-title"' in page
        assert "/static/inbox/shortcuts.js" in page and "data-kbd-open" in page
    assert '<table class="table inbox-table" data-kbd-list>' in text(get(client, "/app/boite/"))
    assert "data-kbd-resolve" in text(get(client, f"/app/boite/{c.pk}/"))


# --- What a view costs ---------------------------------------------------------------------------

def test_a_view_is_one_write_and_still_reaches_the_audit_log(account: Any, agent: Any) -> None:
    cache.clear()
    c = open_conv(account)
    client = login(agent)
    url = f"/app/boite/{c.pk}/"
    get(client, "/app/boite/")  # the session's own writes happen here, not below
    with CaptureQueriesContext(connection) as ctx:
        assert get(client, url).status_code == 200
    assert len(writes(ctx)) == 1, writes(ctx)
    marker = ReadMarker.objects.get(user=agent, conversation=c)
    assert (marker.read_at, marker.view_at, marker.view_user_agent, marker.view_path) == (
        NOW, NOW, "Navigateur de test", url)
    # A second look with nothing new: no write at all (read already, view already logged).
    with CaptureQueriesContext(connection) as ctx:
        get(client, url, at=NOW + timedelta(minutes=1))
    assert writes(ctx) == []
    # The scheduler's job copies the view into the audit log, with its time and origin.
    assert not AuditEvent.objects.filter(action="view").exists()
    assert "inbox.views_audit" in REGISTRY
    assert services.conversation_views_audit() == 1
    event = AuditEvent.objects.get(action="view")
    assert (event.actor, event.target_type, event.target_id, event.account_id) == (
        agent, "inbox.conversation", str(c.pk), account.pk)
    assert (event.created_at, event.path, event.user_agent, event.ip) == (
        NOW, url, "Navigateur de test", "127.0.0.1")
    assert services.conversation_views_audit() == 0  # copied once
    assert ReadMarker.objects.get(pk=marker.pk).view_at is None
    # A new message: the next view moves the marker, still in one write.
    later = NOW + timedelta(minutes=10)
    with clock.frozen(later - timedelta(minutes=1)):
        services.message_add_inbound(c, Incoming(account=account, channel=Channel.EMAIL,
                                                 subject="Re", body_text="Et alors ?"))
    cache.clear()  # the audit window has passed too
    with CaptureQueriesContext(connection) as ctx:
        get(client, url, at=later)
    assert len(writes(ctx)) == 1, writes(ctx)
    # Views waiting for a late scheduler are never overwritten: the next one is logged at once.
    cache.clear()
    get(client, url, at=later + timedelta(minutes=10))
    assert AuditEvent.objects.filter(action="view").count() == 2
    assert services.conversation_views_audit() == 1
    assert sorted(AuditEvent.objects.filter(action="view").values_list(
        "created_at", flat=True)) == [NOW, later, later + timedelta(minutes=10)]


def test_the_live_timeline_marks_read_without_rewriting_an_unchanged_marker(
        account: Any, agent: Any) -> None:
    cache.clear()
    c = open_conv(account)
    client = login(agent)
    get(client, f"/app/boite/{c.pk}/")
    with CaptureQueriesContext(connection) as ctx:
        assert get(client, f"/app/boite/{c.pk}/fil/").status_code == 200
    assert writes(ctx) == []


# Session, user, the conversation with the viewer's read marker, the timeline and its
# attachments, the contact's other requests, tags, status history, the menu's two counts and
# the desk's agent state (one query), and three settings a running process keeps in its
# caches (staff, canned replies, operator identity: read here because a test's wrapping
# transaction keeps the caches out of the way, see test_conversation_page_caches). The
# surveys only once the conversation was resolved.
PAGE_QUERIES = 12


def test_conversation_page_queries_stay_few_and_constant(account: Any, agent: Any) -> None:
    c = open_conv(account)
    client = login(agent)
    url = f"/app/boite/{c.pk}/"
    get(client, url)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert get(client, url).status_code == 200
        return len(ctx.captured_queries)

    few = count()
    for i in range(12):
        with clock.frozen(T0 + timedelta(minutes=i + 1)):
            services.message_add_inbound(c, Incoming(
                account=account, channel=Channel.EMAIL, subject="Re", body_text=f"m{i}",
                attachments=[(f"piece{i}.pdf", b"%PDF-1.4 test")]))
            services.conversation_reply(actor=agent, conversation=c, body=f"r{i}")
        open_conv(account, T0 - timedelta(days=i + 1), subject=f"Ancienne {i}")
    assert count() == few <= PAGE_QUERIES
