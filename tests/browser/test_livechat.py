"""Live chat journey in a real Chromium against the real ASGI server (HTTP and websockets, the
inbox journeys' `asgi_server`): a visitor chats on a demo client page (the one-line widget),
the bot answers from the FAQ, the visitor asks for a person, a secretary takes the chat from
the console, answers (live on the visitor's side) and resolves it."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from playwright.sync_api import expect
from test_inbox_journeys import (  # the ASGI server fixtures (websockets) of the inbox journeys
    LIVE_MS,
    asgi_server,
    live_server,
    open_page,
    wait_socket,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

__all__ = ["asgi_server", "live_server"]  # fixtures used by this module, imported above


@pytest.fixture
def chat_world(account: Any, agent: Any, asgi_server: Any) -> Any:
    from permanence.calendars.models import BusinessCalendar
    from permanence.knowledge.services import ArticleData, article_create, article_publish
    from permanence.livechat.models import ChatSettings

    always = {d: [["00:00", "23:59"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    account.calendar = BusinessCalendar.objects.create(name="Toujours", weekly=always,
                                                       holidays="")
    account.save(update_fields=["calendar"])
    ChatSettings.objects.create(account=account, enabled=True,
                                allowed_origins=asgi_server.url, capacity_per_agent=2)
    article = article_create(actor=None, account=account, data=ArticleData(
        title="Horaires d'ouverture du cabinet", visibility="public", language="fr",
        body="<p>Le cabinet est ouvert du lundi au vendredi de 8 h 30 à 18 h.</p>"))
    article_publish(actor=None, article=article)
    return account


def test_visitor_bot_then_secretary_takes_over_and_resolves(
        chat_world: Any, agent: Any, new_page: Any, login: Any, page_checked: Any) -> None:
    from permanence.inbox.models import Status
    from permanence.livechat.models import ChatSession, ChatStatus

    secretary = open_page(new_page)
    login(secretary, agent.email)
    secretary.goto("/app/chats/")
    wait_socket(secretary, "/ws/chat/agent/")  # on the console: online for the chat
    page_checked(secretary)

    visitor = open_page(new_page)
    visitor.goto("/chat/cabinet-martin/demo/")
    visitor.get_by_role("button", name="Discuter avec nous").click()
    visitor.get_by_label("Votre nom").fill("Jeanne Visiteur")
    visitor.get_by_label("Votre e-mail").fill("jeanne@exemple.fr")
    visitor.get_by_label(re.compile("J'accepte")).check()
    visitor.get_by_role("button", name="Commencer").click()
    visitor.wait_for_function(  # the widget's socket is open (accepted by the consumer)
        "() => window.__sockets.some(s => s.url.includes('/ws/chat/visitor/') "
        "&& s.readyState === 1)", timeout=LIVE_MS)
    box = visitor.get_by_label("Votre message")
    box.fill("Quels sont vos horaires d'ouverture ?")
    box.press("Enter")
    log = visitor.locator("#pc-panel ol")
    expect(log.locator("li.bot")).to_contain_text("ouvert du lundi au vendredi",
                                                  timeout=LIVE_MS)
    expect(log.get_by_role("group", name="Cela vous a aidé ?")).to_be_visible()
    page_checked(visitor)

    visitor.get_by_role("button", name="Parler à un conseiller").click()
    expect(log.locator("li.notice").last).to_contain_text("conseiller", timeout=LIVE_MS)

    # The console's queue updates live; the secretary takes the chat.
    waiting = secretary.locator("#chat-queue").get_by_role("link", name="Jeanne Visiteur")
    expect(waiting).to_be_visible(timeout=LIVE_MS)
    waiting.click()
    expect(secretary.locator("#chat-log")).to_contain_text("Quels sont vos horaires")
    secretary.get_by_role("button", name="Prendre ce chat").click()
    expect(log.locator("li.notice").last).to_contain_text("a rejoint", timeout=LIVE_MS)
    wait_socket(secretary, "/ws/chat/agent/")
    secretary.get_by_label("Votre réponse").fill("Bonjour Jeanne, je vous écoute.")
    secretary.get_by_role("button", name="Envoyer").click()
    expect(log.locator("li.agent")).to_contain_text("je vous écoute", timeout=LIVE_MS)
    page_checked(secretary)

    box.fill("Merci, c'est noté.")
    box.press("Enter")
    expect(secretary.locator("#chat-log")).to_contain_text("c'est noté", timeout=LIVE_MS)

    secretary.get_by_role("button", name="Terminer et résoudre").click()
    expect(log.locator("li.notice").last).to_contain_text("terminée", timeout=LIVE_MS)
    chat = ChatSession.objects.select_related("conversation").get()
    assert chat.status == ChatStatus.ENDED
    assert chat.conversation is not None
    assert chat.conversation.status == Status.RESOLVED


def _start_visitor(new_page: Any, name: str = "Jeanne Visiteur") -> Any:
    visitor = open_page(new_page)
    visitor.goto("/chat/cabinet-martin/demo/")
    visitor.get_by_role("button", name="Discuter avec nous").click()
    visitor.get_by_label("Votre nom").fill(name)
    visitor.get_by_label("Votre e-mail").fill("jeanne@exemple.fr")
    visitor.get_by_label(re.compile("J'accepte")).check()
    visitor.get_by_role("button", name="Commencer").click()
    visitor.wait_for_function(
        "() => window.__sockets.some(s => s.url.includes('/ws/chat/visitor/') "
        "&& s.readyState === 1)", timeout=LIVE_MS)
    return visitor


def test_nobody_on_the_console_makes_an_offline_conversation(chat_world: Any,
                                                             new_page: Any) -> None:
    from permanence.livechat.models import ChatSession, ChatStatus

    visitor = _start_visitor(new_page)
    expect(visitor.locator("#pc-panel").get_by_role("status")).to_contain_text(
        "ne sont pas disponibles")
    box = visitor.get_by_label("Votre message")
    box.fill("Je voudrais parler à un conseiller")
    box.press("Enter")
    notice = visitor.locator("#pc-panel ol li.notice").last
    expect(notice).to_contain_text("au plus tard le", timeout=LIVE_MS)
    chat = ChatSession.objects.select_related("conversation").get()
    assert chat.status == ChatStatus.OFFLINE and chat.conversation is not None
    expect(notice).to_contain_text(chat.conversation.reference)


def test_the_widget_reconnects_without_losing_or_repeating_a_message(
        chat_world: Any, agent: Any, asgi_server: Any, new_page: Any) -> None:
    from permanence.livechat import services
    from permanence.livechat.models import ChatSession

    asgi_server.call(services.seat_beat, user=agent)
    visitor = _start_visitor(new_page)
    box = visitor.get_by_label("Votre message")
    box.fill("Un conseiller svp")
    box.press("Enter")
    log = visitor.locator("#pc-panel ol")
    expect(log.locator("li.notice").last).to_contain_text("conseiller", timeout=LIVE_MS)
    chat = ChatSession.objects.get()
    asgi_server.call(services.chat_accept, actor=agent, session=chat)
    chat.refresh_from_db()
    # The connection drops (a network change): meanwhile the secretary answers and the
    # visitor writes (sent over HTTP while the socket is down).
    visitor.evaluate("window.__sockets.forEach(s => s.close())")
    asgi_server.call(services.chat_reply, actor=agent, session=chat, body="Pendant la coupure.")
    box.fill("Écrit hors connexion")
    box.press("Enter")
    expect(log.locator("li.agent")).to_contain_text("Pendant la coupure.", timeout=LIVE_MS)
    expect(log.locator("li.visitor").filter(has_text="Écrit hors connexion")).to_have_count(1)
    visitor.wait_for_function(  # reconnected
        "() => window.__sockets.filter(s => s.url.includes('/ws/chat/visitor/') "
        "&& s.readyState === 1).length === 1", timeout=LIVE_MS)
    asgi_server.call(services.chat_reply, actor=agent, session=chat, body="Après la coupure.")
    expect(log.locator("li.agent").last).to_contain_text("Après la coupure.", timeout=LIVE_MS)
    ids = visitor.eval_on_selector_all("#pc-panel li[data-message-id]",
                                       "els => els.map(e => e.dataset.messageId)")
    assert len(ids) == len(set(ids))
    assert log.locator("li.agent").count() == 2


HOST_PAGE = """<!doctype html><html lang="fr"><head><meta charset="utf-8">
<title>Site du client</title></head><body><main><h1>Le site du client</h1></main>
<script src="{src}" async></script></body></html>"""


@pytest.fixture
def client_sites(asgi_server: Any) -> Iterator[list[str]]:
    """Two sites of clients (other origins: other ports on loopback, which Chromium lets
    load from 127.0.0.1), each a page with the one line pasted in."""
    html = HOST_PAGE.format(src=f"{asgi_server.url}/chat/cabinet-martin/widget.js").encode()

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(html)

        def log_message(self, *args: Any) -> None:
            return

    servers = [ThreadingHTTPServer(("127.0.0.1", 0), Page) for _ in range(2)]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    yield [f"http://127.0.0.1:{server.server_address[1]}" for server in servers]
    for server in servers:
        server.shutdown()
        server.server_close()


def _client_site(new_page: Any, origin: str) -> Any:
    page = open_page(new_page)
    page.goto(f"{origin}/contact")
    page.get_by_role("button", name="Discuter avec nous").click()
    page.get_by_label("Votre nom").fill("Jeanne Visiteur")
    page.get_by_label("Votre e-mail").fill("jeanne@exemple.fr")
    page.get_by_label(re.compile("J'accepte")).check()
    page.get_by_role("button", name="Commencer").click()
    return page


def test_the_widget_works_from_an_allowed_site_only(chat_world: Any, asgi_server: Any,
                                                    client_sites: list[str],
                                                    new_page: Any) -> None:
    from permanence.livechat.models import ChatSession, ChatSettings

    ChatSettings.objects.filter(account=chat_world).update(
        allowed_origins=f"{asgi_server.url}\n{client_sites[0]}")
    visitor = _client_site(new_page, client_sites[0])
    visitor.wait_for_function(  # a cross-origin socket, accepted for this site
        "() => window.__sockets.some(s => s.url.includes('/ws/chat/visitor/') "
        "&& s.readyState === 1)", timeout=LIVE_MS)
    box = visitor.get_by_label("Votre message")
    box.fill("Quels sont vos horaires d'ouverture ?")
    box.press("Enter")
    expect(visitor.locator("#pc-panel ol li.bot")).to_contain_text("ouvert", timeout=LIVE_MS)
    chat = ChatSession.objects.get()
    assert chat.origin == client_sites[0]
    assert chat.page_url == f"{client_sites[0]}/contact"

    elsewhere = _client_site(new_page, client_sites[1])
    # Refused (403) without CORS headers: the widget cannot even read why.
    expect(elsewhere.locator("#pc-panel").get_by_role("alert").first).to_contain_text(
        "indisponible", timeout=LIVE_MS)
    assert ChatSession.objects.count() == 1
