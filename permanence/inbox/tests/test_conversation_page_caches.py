"""What the conversation page keeps between requests to stay fast (issue 9: p95 < 25 ms at
200,000 conversations), and the proof that each kept thing follows the data: the canned
replies, the assign menu's staff and the operator's identity (process-local caches, emptied
by a change), the HTML of empty forms and of the shortcuts help (the same on every page),
the menu's two counts (one query, compiled once per user, never cached), the read marker (read with the page) and
the pending call back (read from the timeline)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from permanence.accounts.models import Role
from permanence.accounts.services import operator_update, staff_create, staff_update
from permanence.core import clock
from permanence.inbox import services, settings_services, sla
from permanence.inbox.forms import MergeForm, NoteForm, ReplyForm
from permanence.inbox.models import CannedReply, Channel, Notification, ReadMarker
from permanence.inbox.services import Incoming
from permanence.inbox.templatetags.inbox_tags import form_fields, static_fragment
from permanence.inbox.views_settings import CannedReplyForm

from .test_conversation_page import NOW, T0, get, login, open_conv, text

# Committed for real (transaction=True): the caches stay out of the way of a transaction
# that changed what they hold, as a test's wrapping transaction would (see
# test_ingest_caches).
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _default_policy(db: Any) -> None:
    # Created on first use otherwise, which (as any policy change) empties the caches.
    sla.ensure_default_policy()


def page(client: Any, c: Any, at: Any = NOW) -> str:
    response = get(client, f"/app/boite/{c.pk}/", at=at)
    assert response.status_code == 200
    return text(response)


def tables_read(client: Any, c: Any) -> str:
    """The SQL of one view of the page."""
    with CaptureQueriesContext(connection) as ctx:
        page(client, c)
    return "\n".join(q["sql"] for q in ctx.captured_queries)


def menu_count(page_html: str) -> str:
    match = re.search(r'id="inbox-unread"[^>]*>([^<]*)<', page_html)
    assert match
    return match.group(1)


def bell_count(page_html: str) -> str:
    match = re.search(r'id="bell-count"[^>]*>([^<]*)<', page_html)
    assert match
    return match.group(1)


# --- Settings cached in the process, emptied by a change ----------------------------------

def test_canned_replies_follow_a_new_an_edited_and_a_removed_reply(account: Any, agent: Any,
                                                                   supervisor: Any) -> None:
    c = open_conv(account)
    client = login(agent)
    assert "Rappel du tarif" not in page(client, c)
    assert "inbox_cannedreply" not in tables_read(client, c)  # cached
    form = CannedReplyForm({"title": "Rappel du tarif", "account": account.pk,
                            "body": "Bonjour {contact}, dossier {reference}."})
    assert form.is_valid()
    reply = settings_services.setting_save(actor=supervisor, form=form)
    shown = page(client, c)
    assert "Rappel du tarif" in shown and f"Bonjour Jean Dupont, dossier {c.reference}." in shown
    form = CannedReplyForm({"title": "Tarif 2027", "account": account.pk, "body": "Nouveau."},
                           instance=reply)
    assert form.is_valid()
    settings_services.setting_save(actor=supervisor, form=form)
    shown = page(client, c)
    assert "Tarif 2027" in shown and "Rappel du tarif" not in shown
    settings_services.setting_delete(actor=supervisor, obj=CannedReply.objects.get(pk=reply.pk))
    assert "Tarif 2027" not in page(client, c)


def test_canned_replies_of_another_account_are_not_offered(account: Any, other_account: Any,
                                                           agent: Any) -> None:
    CannedReply.objects.create(title="Pour tous", body="Bonjour.")
    CannedReply.objects.create(title="Pour un autre", body="Ailleurs.", account=other_account)
    shown = page(login(agent), open_conv(account))
    assert "Pour tous" in shown and "Pour un autre" not in shown


def test_the_assign_menu_follows_a_new_and_a_deactivated_colleague(account: Any, agent: Any,
                                                                   admin_user: Any) -> None:
    c = open_conv(account)
    client = login(agent)
    assert "Nadia Benali" not in page(client, c)
    # Cached: the only read of the users is the session's own.
    assert tables_read(client, c).count('FROM "accounts_user"') == 1
    nadia = staff_create(actor=admin_user, data={"email": "nadia@permanence.test",
                                                 "full_name": "Nadia Benali",
                                                 "role": Role.AGENT})
    assert f'<option value="{nadia.pk}">Nadia Benali</option>' in page(client, c)
    staff_update(actor=admin_user, user=nadia, data={"is_active": False})
    assert "Nadia Benali" not in page(client, c)


def test_the_header_follows_the_operator_identity(account: Any, agent: Any,
                                                  admin_user: Any) -> None:
    c = open_conv(account)
    client = login(agent)
    page(client, c)
    assert "accounts_operatoridentity" not in tables_read(client, c)  # cached
    operator_update(actor=admin_user, data={"legal_name": "Secrétariat Durand SARL"})
    assert "Secrétariat Durand SARL" in page(client, c)


# --- The menu's counts: one query for both, never cached ----------------------------------

def test_menu_counts_follow_a_new_message_a_view_and_a_notification(account: Any,
                                                                      agent: Any) -> None:
    first, second = open_conv(account), open_conv(account, subject="Autre")
    client = login(agent)
    shown = page(client, first)  # viewing it reads it: the other one is left
    assert menu_count(shown) == "1" and bell_count(shown) == "0"
    with clock.frozen(NOW + timedelta(minutes=1)):
        services.message_add_inbound(first, Incoming(account=account, channel=Channel.EMAIL,
                                                     subject="Re", body_text="Encore moi"))
    Notification.objects.create(user=agent, conversation=first, kind="mention", text="@agent",
                                created_at=NOW)
    shown = text(get(client, "/app/boite/", at=NOW + timedelta(minutes=2)))
    assert menu_count(shown) == "2" and bell_count(shown) == "1"
    shown = page(client, second, at=NOW + timedelta(minutes=3))
    assert menu_count(shown) == "1"
    # The JSON the live menu re-reads agrees with the page.
    unread = get(client, reverse("inbox:unread"), at=NOW + timedelta(minutes=3)).json()
    assert unread["count"] == 1


def test_menu_counts_compile_once_and_still_follow_the_assignments(account: Any,
                                                                   agent: Any) -> None:
    """The menu's statement is compiled once per user and role (compiling cost more than
    running it); the accounts the agent sees are read when it runs: unassigned, the
    account's unread conversation leaves the count at once."""
    from permanence.inbox import selectors

    open_conv(account)
    assert selectors.menu_counts(agent) == (1, 0)
    with CaptureQueriesContext(connection) as ctx:
        assert selectors.menu_counts(agent) == (1, 0)
    assert len(ctx.captured_queries) == 1
    account.assigned_agents.remove(agent)
    assert selectors.menu_counts(agent) == (0, 0)
    account.assigned_agents.add(agent)
    assert selectors.menu_counts(agent) == (1, 0)
    # Another role, another statement: a supervisor sees every account's.
    agent.role = Role.SUPERVISOR
    agent.save(update_fields=["role"])
    account.assigned_agents.remove(agent)
    assert selectors.menu_counts(agent) == (1, 0)


# --- HTML rendered once: the same on every page --------------------------------------------

def test_an_empty_form_is_rendered_once_and_a_form_with_errors_always() -> None:
    first = form_fields(ReplyForm())
    assert form_fields(ReplyForm()) is first  # kept
    assert form_fields(MergeForm()) is not form_fields(MergeForm())  # not declared: rendered
    assert 'name="body"' in first and 'name="attachments"' in first
    assert form_fields(NoteForm(auto_id="id_note_%s")) != form_fields(NoteForm())  # ids differ
    bound = ReplyForm({"body": ""})
    assert not bound.is_valid()
    assert "error" in form_fields(bound) and "error" not in first
    assert "x</textarea>" in form_fields(NoteForm(initial={"body": "x"}))  # never the kept one


def test_a_reply_refused_comes_back_with_its_error(account: Any, agent: Any) -> None:
    c = open_conv(account)
    client = login(agent)
    page(client, c)  # the empty reply form is kept now
    with clock.frozen(NOW):
        refused = client.post(reverse("inbox:reply", args=[c.pk]), {"body": ""})
    assert refused.status_code == 422
    assert 'class="error"' in text(refused)


def test_the_shortcuts_help_follows_the_language(account: Any, agent: Any) -> None:
    c = open_conv(account)
    client = login(agent)
    assert "Raccourcis clavier" in page(client, c)  # kept in French now
    agent.language = "en"
    agent.save(update_fields=["language"])
    english = page(client, c)
    assert "Keyboard shortcuts" in english and "Raccourcis clavier" not in english
    with translation.override("fr"):
        assert static_fragment("inbox/_shortcuts.html") == render_to_string(
            "inbox/_shortcuts.html")


# --- Read with the page: the marker and the pending call back ------------------------------

def test_the_marker_read_with_the_page_still_moves_on_a_new_message(account: Any,
                                                                    agent: Any) -> None:
    c = open_conv(account)
    client = login(agent)
    page(client, c)
    read_at = ReadMarker.objects.get(user=agent, conversation=c).read_at
    with clock.frozen(NOW + timedelta(minutes=5)):
        services.message_add_inbound(c, Incoming(account=account, channel=Channel.EMAIL,
                                                 subject="Re", body_text="Alors ?"))
    with CaptureQueriesContext(connection) as ctx:
        page(client, c, at=NOW + timedelta(minutes=6))
    assert ReadMarker.objects.get(user=agent, conversation=c).read_at > read_at
    # No marker read of its own, no transaction around the one write.
    sqls = [q["sql"] for q in ctx.captured_queries]
    assert not any(sql.startswith(("BEGIN", "SAVEPOINT")) for sql in sqls), sqls
    assert not any('FROM "inbox_readmarker"' in sql and sql.startswith("SELECT") and
                   "inbox_conversation" not in sql for sql in sqls), sqls


def test_a_call_back_planned_then_made_is_no_longer_pending(account: Any, agent: Any) -> None:
    c = open_conv(account, contact_phone="01 45 00 00 04")
    client = login(agent)
    with clock.frozen(T0 + timedelta(hours=1)):
        client.post(reverse("inbox:callback_plan", args=[c.pk]),
                    {"at": "2026-11-03T14:30", "note": "Après 14 h"})
    assert "data-callback-pending" in page(client, c)
    with clock.frozen(T0 + timedelta(hours=2)):
        client.post(reverse("inbox:callback_done", args=[c.pk]), {"note": "Rappelée, OK"})
    assert "data-callback-pending" not in page(client, c)
    with clock.frozen(T0 + timedelta(hours=3)):
        client.post(reverse("inbox:callback_plan", args=[c.pk]),
                    {"at": "2026-11-04T09:00", "note": "Relancer"})
    shown = page(client, c)
    assert "data-callback-pending" in shown and "Relancer" in shown


FIRST_VIEW_QUERIES = 12  # PAGE_QUERIES without the three cached settings, plus the one write


def test_a_first_view_with_warm_caches_costs_few_queries_and_one_write(account: Any,
                                                                      agent: Any) -> None:
    first, second = open_conv(account), open_conv(account, subject="Autre")
    client = login(agent)
    page(client, first)
    with CaptureQueriesContext(connection) as ctx:
        page(client, second)
    sqls = [q["sql"] for q in ctx.captured_queries]
    assert len(sqls) <= FIRST_VIEW_QUERIES, sqls
    writes = [sql for sql in sqls if sql.startswith(("INSERT", "UPDATE", "DELETE"))]
    assert len(writes) == 1 and writes[0].startswith('INSERT INTO "inbox_readmarker"'), writes
