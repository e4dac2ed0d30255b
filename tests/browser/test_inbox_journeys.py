"""Inbox journeys in a real Chromium against a real ASGI server (HTTP and websockets).

1. A contact-form submission appears in an agent's open inbox without a reload.
2. An agent answers with a canned reply (variables substituted); the e-mail goes out.
3. Two agents on one conversation see each other (viewing, typing); a customer's message
   reaches the open timeline without a reload.
4. A complaint goes through analyse → traitement → clôture and lands archived in the register.
5. A client follows a request in the espace client: acknowledgement with the reference, the
   agent's answer shown, internal notes never shown.

Why not pytest-django's `live_server`: it is a WSGI server, so /ws/… cannot connect. The
`asgi_server` fixture below runs uvicorn in a background thread of this process, serving
`permanence.asgi.application` (static files added, as runserver does) against the test
database; `live_server` is overridden to return it, so the shared `new_page` fixture opens
pages on it. Because the server runs in this process, the channel layer (in memory, or Redis
when REDIS_URL is set), the cache and `django.core.mail.outbox` are the test's own.

Test database seen by the server's threads:
- PostgreSQL: every thread has its own connection; `transaction=True` commits the test's data.
  CONN_MAX_AGE is 0 while the server runs so that no server thread keeps a connection open
  (the test database could not be flushed or dropped).
- SQLite in memory: like Django's LiveServerThread, every thread uses the test thread's single
  connection. To keep two threads from interleaving transactions on it, HTTP requests and
  `asgi_server.call()` are serialised (websocket consumers only read).

Writes made while pages are open go through `asgi_server.call(fn, …)`: it runs `fn` in a
worker thread of the server's event loop, the way a request would, so the live pushes it
triggers after commit reach the browsers (from the test thread itself, Playwright's event loop
would make them fail).
"""

from __future__ import annotations

import asyncio
import re
import socket
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LIVE_MS = 15_000  # a push over the websocket, then an htmx refresh
STARTUP_S = 15

# Test instrumentation only: remember the page's websockets, so that a test can wait until
# the server has accepted them (an event sent before that would be missed, by design).
TRACK_SOCKETS = """
(() => {
  const Native = window.WebSocket;
  window.__sockets = [];
  window.WebSocket = class extends Native {
    constructor(...args) { super(...args); window.__sockets.push(this); }
  };
})();
"""


# --- The ASGI server --------------------------------------------------------------------------

class _SerialisedHttp:
    """ASGI middleware: one HTTP request at a time (SQLite's shared connection, see above)."""

    def __init__(self, app: Any, lock: asyncio.Lock) -> None:
        self.app, self.lock = app, lock

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        async with self.lock:
            await self.app(scope, receive, send)


class _ClosingExecutor(ThreadPoolExecutor):
    """The loop's default executor, which runs `sync_to_async(thread_sensitive=False)` work
    (Django renders error pages there, `AsgiServer.call` uses it): each job closes the
    database connections it opened, as a request does with CONN_MAX_AGE = 0. Otherwise
    these long-lived threads keep PostgreSQL sessions open and the test database can be
    neither flushed nor dropped."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        def job() -> Any:
            from django.db import connections

            try:
                return fn(*args, **kwargs)
            finally:
                connections.close_all()  # this thread's own ones (never SQLite's shared one)

        return super().submit(job)


class AsgiServer:
    def __init__(self, *, share_connections: dict[str, Any]) -> None:
        import uvicorn
        from channels.routing import ProtocolTypeRouter
        from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
        from django.test.utils import modify_settings

        from permanence.asgi import application

        self.serialise = bool(share_connections)
        self.lock: asyncio.Lock | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.error: BaseException | None = None
        http = application.application_mapping["http"]
        if self.serialise:
            http = _SerialisedHttp(http, self._lock())
        app = ProtocolTypeRouter({
            "http": ASGIStaticFilesHandler(http),
            "websocket": application.application_mapping["websocket"],
        })
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                lifespan="off", ws="websockets-sansio", loop="asyncio",
                                timeout_graceful_shutdown=3)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self._run, name="asgi-server", daemon=True)
        # pytest-django's autouse helper enables this on whatever `live_server` returns.
        self._live_server_modified_settings = modify_settings(
            ALLOWED_HOSTS={"append": "127.0.0.1"})

    def _lock(self) -> asyncio.Lock:
        # An asyncio.Lock binds to the loop that first waits on it: the server's.
        if self.lock is None:
            self.lock = asyncio.Lock()
        return self.lock

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        loop.set_default_executor(_ClosingExecutor(thread_name_prefix="asgi-server-worker"))
        self.loop = loop
        try:
            loop.run_until_complete(self.server.serve(sockets=[self.sock]))
        except BaseException as exc:  # reported by start()
            self.error = exc
        finally:
            loop.close()

    def start(self) -> None:
        # Each server runs its own event loop: a Redis layer kept from an earlier test's
        # server may hold its receive lock, bound to that closed loop, when a consumer was
        # cancelled mid-receive (as the chat unit tests' fixture says): a layer per server.
        from channels.layers import channel_layers

        channel_layers.backends.clear()
        self.thread.start()
        for _ in range(STARTUP_S * 20):
            if self.server.started or self.error or not self.thread.is_alive():
                break
            threading.Event().wait(0.05)
        if not self.server.started:
            self.stop()
            raise RuntimeError(f"uvicorn did not start: {self.error!r}")

    def stop(self) -> None:
        # Let the last requests and websocket closings (the browser contexts are closed by
        # now) finish first: uvicorn would otherwise wait its graceful timeout, then cancel.
        for _ in range(40):
            if not self.server.server_state.tasks:
                break
            threading.Event().wait(0.05)
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()
        from channels.layers import channel_layers

        channel_layers.backends.clear()

    def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """fn(*args, **kwargs) in a worker thread of the server's loop; returns its result."""
        from asgiref.sync import sync_to_async

        work = sync_to_async(fn, thread_sensitive=False)  # in the loop's _ClosingExecutor

        async def run() -> Any:
            if self.serialise:
                async with self._lock():
                    return await work(*args, **kwargs)
            return await work(*args, **kwargs)

        assert self.loop is not None
        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(timeout=30)


@pytest.fixture
def asgi_server(transactional_db: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[AsgiServer]:
    from django.db import connections
    from django.db.utils import ConnectionHandler

    shared = {conn.alias: conn for conn in connections.all()
              if conn.vendor == "sqlite" and conn.is_in_memory_db()}
    if shared:
        original = ConnectionHandler.__getitem__

        def getitem(self: ConnectionHandler, alias: str) -> Any:
            if self is connections and alias in shared:
                return shared[alias]
            return original(self, alias)

        monkeypatch.setattr(ConnectionHandler, "__getitem__", getitem)
        for conn in shared.values():
            conn.inc_thread_sharing()
    for alias in connections:
        if alias not in shared:
            monkeypatch.setitem(connections.settings[alias], "CONN_MAX_AGE", 0)
    server = AsgiServer(share_connections=shared)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        for conn in shared.values():
            conn.dec_thread_sharing()


@pytest.fixture
def live_server(asgi_server: AsgiServer) -> AsgiServer:
    """The shared `new_page` fixture opens pages on `live_server.url`: here, the ASGI one."""
    return asgi_server


# --- Helpers ----------------------------------------------------------------------------------

def open_page(new_page: Any) -> Any:
    page = new_page()
    page.add_init_script(TRACK_SOCKETS)
    return page


def wait_socket(page: Any, path: str) -> None:
    """Until the page's websocket on `path` is open (accepted by the consumer)."""
    page.wait_for_function(
        "path => window.__sockets.some(s => s.url.endsWith(path) && s.readyState === 1)",
        arg=path, timeout=LIVE_MS)


def mark_no_reload(page: Any) -> None:
    page.evaluate("window.__noReload = 'still here'")


def assert_not_reloaded(page: Any) -> None:
    assert page.evaluate("window.__noReload") == "still here", "the page was reloaded"


def name(user: Any, full_name: str) -> Any:
    user.full_name = full_name
    user.save(update_fields=["full_name"])
    return user


def open_conversation(server: AsgiServer, account: Any, **fields: Any) -> Any:
    """A conversation opened by an e-mail from Jeanne Dupont (its pushes go out)."""
    from permanence.inbox import services
    from permanence.inbox.models import Channel

    fields.setdefault("channel", Channel.EMAIL)
    fields.setdefault("contact_name", "Jeanne Dupont")
    fields.setdefault("contact_email", "jeanne.dupont@exemple.fr")
    return server.call(services.conversation_open, services.Incoming(account=account, **fields))


def forget_presence(conversation: Any) -> None:
    """Presence lives in the cache (Redis in CI survives runs): start from nobody."""
    from django.core.cache import cache

    cache.delete(f"presence:{conversation.pk}")


# --- 1. Contact form → inbox, live ------------------------------------------------------------

def test_contact_form_submission_appears_in_the_open_inbox_without_reload(
        new_page: Any, login: Any, agent: Any, account: Any, settings: Any) -> None:
    from permanence.inbox.models import Channel, Conversation

    settings.WEBFORM_RATE_LIMIT = 1000  # the cache may hold earlier submissions (Redis)
    name(agent, "Alice Martin")

    desk = open_page(new_page)
    login(desk, agent.email)
    desk.goto("/app/boite/")
    expect(desk.get_by_role("heading", name="Boîte de réception", level=1)).to_be_visible()
    expect(desk.locator("#inbox-results")).to_contain_text("Aucun dossier dans cette vue.")
    expect(desk.locator("#inbox-unread")).to_be_hidden()  # nothing unread: no count
    assert not desk.title().startswith("(")
    wait_socket(desk, "/ws/inbox/")
    mark_no_reload(desk)

    visitor = new_page()
    visitor.goto(f"/contact/{account.slug}/")
    expect(visitor.get_by_role("heading", name="Nous contacter")).to_be_visible()
    visitor.get_by_label("Type de demande").select_option(label="Demande de devis")
    visitor.get_by_label(re.compile(r"^Nom et prénom")).fill("Paul Bernard")
    visitor.get_by_label(re.compile(r"^Adresse e-mail")).fill("paul.bernard@exemple.fr")
    visitor.get_by_label(re.compile(r"^Objet")).fill("Devis pour un rendez-vous à domicile")
    visitor.get_by_label(re.compile(r"^Message")).fill("Bonjour, combien coûte une visite ?")
    visitor.get_by_label(re.compile(r"^J'accepte que les informations")).check()
    visitor.get_by_role("button", name="Envoyer ma demande").click()

    ack = visitor.get_by_role("status")
    expect(ack.get_by_role("heading")).to_have_text("Votre demande a bien été envoyée")
    reference = ack.locator(".reference").inner_text()
    assert re.fullmatch(r"D-\d{4}-\d{6}", reference), reference

    row = desk.locator("#inbox-results tbody tr").filter(
        has_text="Devis pour un rendez-vous à domicile")
    expect(row).to_be_visible(timeout=LIVE_MS)
    expect(row).to_contain_text(reference)
    expect(row).to_contain_text("Formulaire de contact")
    expect(row).to_contain_text("Cabinet Martin")
    expect(row).to_contain_text("Paul Bernard")
    expect(row.locator(".badge")).to_have_text("Nouveau")
    # The unread count follows live: on the menu item and in the tab title.
    expect(desk.locator("#inbox-unread")).to_have_text("1", timeout=LIVE_MS)
    expect(desk).to_have_title(re.compile(r"^\(1\) Boîte de réception"), timeout=LIVE_MS)
    assert_not_reloaded(desk)

    conversation = Conversation.objects.get(reference=reference)
    assert conversation.channel == Channel.WEBFORM
    assert conversation.account_id == account.pk


# --- 2. Canned reply → sent ---------------------------------------------------------------------

def test_agent_replies_with_a_canned_reply_and_the_email_goes_out(
        new_page: Any, login: Any, agent: Any, account: Any, asgi_server: AsgiServer) -> None:
    from django.core import mail

    from permanence.inbox.models import CannedReply, Delivery, Direction, Message

    name(agent, "Alice Martin")
    conversation = open_conversation(asgi_server, account, subject="Horaires du cabinet",
                                     body_text="Êtes-vous ouverts le samedi ?",
                                     acknowledge=False)
    CannedReply.objects.create(
        account=account, title="Horaires",
        body="Bonjour {contact},\nLe cabinet est ouvert du lundi au vendredi.\n"
             "Référence de votre demande : {reference}.\n{agent}")
    CannedReply.objects.create(account=None, title="Remerciements", body="Merci {contact} !")
    expected = (f"Bonjour Jeanne Dupont,\nLe cabinet est ouvert du lundi au vendredi.\n"
                f"Référence de votre demande : {conversation.reference}.\nAlice Martin")
    mail.outbox.clear()

    page = open_page(new_page)
    login(page, agent.email)
    page.goto(f"/app/boite/{conversation.pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Horaires du cabinet")
    reply = page.locator("#reply-form")
    textarea = reply.get_by_label(re.compile(r"^Réponse"))
    expect(reply.get_by_role("button", name="Remerciements")).to_be_visible()
    reply.get_by_role("button", name="Horaires").click()
    expect(textarea).to_have_value(expected)
    expect(textarea).to_be_focused()
    reply.get_by_role("button", name="Envoyer la réponse").click()

    # Says what happened: queued for its channel (then sent by the worker), never "envoyée".
    expect(page.get_by_role("status")).to_contain_text(
        "Réponse mise en file d'envoi vers jeanne.dupont@exemple.fr.")
    sent = page.locator("#timeline li.msg-out").filter(has_text="ouvert du lundi au vendredi")
    expect(sent).to_have_count(1)
    expect(sent).to_contain_text("Alice Martin")
    expect(sent.locator(".badge").filter(has_text=re.compile(r"^(En file|Envoyé)$"))
           ).to_have_count(1)
    expect(sent).to_contain_text(conversation.reference)

    message = Message.objects.get(conversation=conversation, direction=Direction.OUT)
    assert message.body_text.replace("\r\n", "\n") == expected  # forms post CRLF
    assert message.delivery_status in (Delivery.PENDING, Delivery.SENT)
    outgoing = [m for m in mail.outbox if "jeanne.dupont@exemple.fr" in " ".join(m.to)
                and "ouvert du lundi au vendredi" in m.body]
    assert len(outgoing) == 1, [(m.to, m.subject) for m in mail.outbox]
    assert conversation.reference in outgoing[0].body
    assert "Horaires du cabinet" in outgoing[0].subject


# --- 3. Two agents on one conversation ------------------------------------------------------

def test_two_agents_see_each_other_and_a_customer_message_arrives_live(
        new_page: Any, login: Any, agent: Any, other_agent: Any, account: Any,
        asgi_server: AsgiServer) -> None:
    from permanence.inbox import services
    from permanence.inbox.models import Channel

    name(agent, "Alice Martin")
    name(other_agent, "Bruno Petit")
    account.assigned_agents.add(other_agent)
    conversation = open_conversation(asgi_server, account, subject="Rendez-vous à déplacer",
                                     body_text="Puis-je décaler mon rendez-vous ?",
                                     acknowledge=False)
    forget_presence(conversation)
    path = f"/app/boite/{conversation.pk}/"
    socket_path = f"/ws/conversations/{conversation.pk}/"

    alice = open_page(new_page)
    login(alice, agent.email)
    alice.goto(path)
    wait_socket(alice, socket_path)
    mark_no_reload(alice)

    bruno = open_page(new_page)
    login(bruno, other_agent.email)
    bruno.goto(path)
    wait_socket(bruno, socket_path)

    expect(alice.locator("#presence")).to_be_visible(timeout=LIVE_MS)
    expect(alice.locator("#presence")).to_have_text("Bruno Petit consulte ce dossier")
    expect(bruno.locator("#presence")).to_have_text("Alice Martin consulte ce dossier",
                                                    timeout=LIVE_MS)

    bruno.locator("#reply-form").get_by_label(re.compile(r"^Réponse")).press_sequentially(
        "Bonjour, je regarde")
    expect(alice.locator("#presence .who.typing")).to_have_text(
        "Bruno Petit est en train de répondre…", timeout=LIVE_MS)

    asgi_server.call(services.message_add_inbound, conversation, services.Incoming(
        account=account, channel=Channel.EMAIL, subject="Re: Rendez-vous à déplacer",
        body_text="Finalement, jeudi 14 h me conviendrait.",
        contact_email="jeanne.dupont@exemple.fr"))

    incoming = alice.locator("#timeline li.msg-in").filter(has_text="jeudi 14 h")
    expect(incoming).to_be_visible(timeout=LIVE_MS)
    expect(incoming).to_contain_text("Jeanne Dupont")
    # The refreshed timeline keeps the agent's actions on customer messages.
    incoming.get_by_text("Autres actions").click()  # folded until needed
    expect(incoming.get_by_role("button", name="Scinder dans un nouveau dossier")).to_be_visible()
    assert_not_reloaded(alice)
    # Bruno had started typing: he is warned that the customer wrote in the meantime.
    expect(bruno.locator("#timeline li.msg-in").filter(has_text="jeudi 14 h")).to_be_visible(
        timeout=LIVE_MS)
    expect(bruno.locator("#new-message-warning")).to_be_visible()
    expect(alice.locator("#new-message-warning")).to_be_hidden()


# --- 4. A complaint's four steps ----------------------------------------------------------------

def test_complaint_goes_through_its_steps_and_is_archived_in_the_register(
        new_page: Any, login: Any, agent: Any, account: Any, asgi_server: AsgiServer) -> None:
    from django.core import mail
    from django.utils import timezone

    from permanence.inbox.models import Kind
    from permanence.inbox.models_complaints import Complaint

    name(agent, "Alice Martin")
    conversation = open_conversation(asgi_server, account, kind=Kind.COMPLAINT,
                                     subject="Facture erronée",
                                     body_text="Ma facture de mars est fausse.")
    promised = timezone.localdate() + timedelta(days=5)
    mail.outbox.clear()

    page = new_page()
    login(page, agent.email)
    page.goto(f"/app/boite/{conversation.pk}/")
    panel = page.locator("section.complaint")
    steps = panel.locator("ol.steps > li")
    expect(steps).to_have_count(4)
    expect(steps.nth(0)).to_have_class(re.compile(r"\bdone\b"))
    expect(steps.nth(1)).to_have_class(re.compile(r"\bcurrent\b"))

    # Analyse.
    panel.get_by_label(re.compile(r"^Faits vérifiés")).fill(
        "Double facturation de la consultation du 3 mars.")
    panel.get_by_label(re.compile(r"^Urgence")).select_option(label="Haute")
    panel.get_by_label(re.compile(r"^Impact")).select_option(label="Moyen")
    panel.get_by_role("button", name="Valider l'analyse").click()
    expect(page.get_by_role("status")).to_contain_text("Étape de la réclamation enregistrée.")
    expect(steps.nth(1)).to_have_class(re.compile(r"\bdone\b"))
    expect(steps.nth(1)).to_contain_text("par Alice Martin — impact moyen")
    expect(steps.nth(2)).to_have_class(re.compile(r"\bcurrent\b"))

    # Traitement: the promised date is told to the customer (a reply in the timeline).
    panel.get_by_label(re.compile(r"^Solution retenue")).select_option(
        label="Ajustement ou remboursement")
    panel.get_by_label(re.compile(r"^Détail")).fill("Avoir de 45 € sur la prochaine facture.")
    panel.get_by_label(re.compile(r"^Date de résolution promise")).fill(promised.isoformat())
    expect(panel.get_by_label("Communiquer la date au client")).to_be_checked()
    panel.get_by_role("button", name="Valider le traitement").click()
    expect(page.get_by_role("status")).to_contain_text("Étape de la réclamation enregistrée.")
    expect(steps.nth(2)).to_have_class(re.compile(r"\bdone\b"))
    expect(steps.nth(2)).to_contain_text(
        f"Ajustement ou remboursement, promis pour le {promised:%d/%m/%Y} (Alice Martin)")
    expect(steps.nth(3)).to_have_class(re.compile(r"\bcurrent\b"))
    expect(page.locator("#timeline li.msg-out").filter(has_text="Avoir de 45 €")).to_be_visible()

    # Clôture.
    panel.get_by_label(re.compile(r"^Le client est-il satisfait")).select_option(label="Oui")
    panel.get_by_label(re.compile(r"^Commentaire")).fill("Client rappelé, satisfait de l'avoir.")
    panel.get_by_role("button", name="Clôturer et archiver").click()
    expect(page.get_by_role("status")).to_contain_text("Étape de la réclamation enregistrée.")
    expect(steps.nth(3)).to_have_class(re.compile(r"\bdone\b"))
    expect(steps.nth(3)).to_contain_text("client satisfait : oui")
    expect(panel.get_by_role("button")).to_have_count(0)  # no step left
    expect(page.locator(".page-head .badge")).to_have_text("Clos")

    complaint = Complaint.objects.get(conversation=conversation)
    assert complaint.closed_at and complaint.closed_by_id == agent.pk
    assert complaint.analysed_by_id == agent.pk and complaint.treated_by_id == agent.pk
    assert complaint.customer_satisfied is True
    assert any(promised.strftime("%Y") in m.body and "Avoir de 45 €" in m.body
               for m in mail.outbox), [m.subject for m in mail.outbox]

    # The register, filtered on archived complaints.
    page.goto("/app/boite/")
    page.get_by_role("link", name="Registre des réclamations").click()
    expect(page.get_by_role("heading", name="Registre des réclamations")).to_be_visible()
    page.get_by_label("Étape").select_option(label="Archivées")
    page.get_by_role("button", name="Filtrer").click()
    expect(page).to_have_url(re.compile(r"step=archive"))
    row = page.locator("table tbody tr").filter(has_text=conversation.reference)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Facture erronée")
    expect(row.locator(".badge")).to_have_text("Archivée")
    expect(row).to_contain_text("Ajustement ou remboursement")
    expect(row).to_contain_text(f"{promised:%d/%m/%Y}")
    expect(row.locator("td").last).to_have_text("oui")


# --- 5. Espace client: a request and its answer ---------------------------------------------

def test_client_follows_a_request_and_sees_the_answer_but_not_internal_notes(
        new_page: Any, login: Any, agent: Any, client_user: Any, account: Any) -> None:
    from permanence.inbox.models import Channel, Conversation

    name(agent, "Alice Martin")
    name(client_user, "Claire Client")

    client = new_page()
    login(client, client_user.email)
    client.get_by_role("navigation", name="Espace client").get_by_role(
        "link", name="Mes demandes", exact=True).click()
    expect(client.get_by_role("heading", name="Mes demandes")).to_be_visible()
    client.get_by_role("link", name="Nouvelle demande").click()
    expect(client.get_by_role("heading", name="Nouvelle demande")).to_be_visible()
    client.get_by_label("Type de demande").select_option(label="Assistance")
    client.get_by_label(re.compile(r"^Objet")).fill("Accès à l'agenda en ligne")
    client.get_by_label(re.compile(r"^Message")).fill(
        "Je n'arrive plus à voir les rendez-vous de la semaine prochaine.")
    client.get_by_role("button", name="Envoyer la demande").click()

    ack = client.get_by_role("status")
    expect(ack).to_contain_text("Votre demande est enregistrée sous la référence D-")
    reference = re.search(r"D-\d{4}-\d{6}", ack.inner_text()).group(0)  # type: ignore[union-attr]
    expect(client.get_by_role("heading", level=1)).to_have_text("Accès à l'agenda en ligne")
    expect(client.locator("p.muted").filter(has_text="Référence")).to_contain_text(reference)
    detail_url = client.url
    conversation = Conversation.objects.get(reference=reference)
    assert conversation.channel == Channel.PORTAL and conversation.account_id == account.pk

    # The agent writes an internal note and answers, through the inbox.
    desk = new_page()
    login(desk, agent.email)
    desk.goto(f"/app/boite/{conversation.pk}/")
    expect(desk.get_by_role("heading", level=1)).to_have_text("Accès à l'agenda en ligne")
    desk.locator("section.note-card").get_by_label(re.compile(r"^Note interne")).fill(
        "Compte agenda bloqué côté éditeur — ne pas le dire au client.")
    desk.get_by_role("button", name="Ajouter la note").click()
    expect(desk.get_by_role("status")).to_contain_text("Note ajoutée.")
    desk.locator("#reply-form").get_by_label(re.compile(r"^Réponse")).fill(
        "Bonjour, l'accès est rétabli : rechargez la page de l'agenda.")
    desk.get_by_role("button", name="Envoyer la réponse").click()
    expect(desk.get_by_role("status")).to_contain_text(
        "Réponse publiée dans l'espace client et mise en file d'envoi vers client@test.fr.")

    client.goto(detail_url)  # no live updates in the espace client: a reload is expected
    answers = client.locator("ol.client-timeline li.msg-out")
    expect(answers).to_have_count(1)
    expect(answers).to_contain_text("l'accès est rétabli")
    expect(answers).to_contain_text("Alice Martin")
    expect(client.locator("ol.client-timeline li.msg-in")).to_contain_text("Vous")
    expect(client.locator("main")).not_to_contain_text("Compte agenda bloqué")
    expect(client.locator("main")).not_to_contain_text("ne pas le dire au client")

    client.get_by_role("link", name="Mes demandes").first.click()
    row = client.locator("table.requests-table tbody tr").filter(has_text=reference)
    expect(row).to_contain_text("Accès à l'agenda en ligne")
