"""The inbound SMTP/LMTP gateway (aiosmtpd): nothing is acknowledged before it is committed.

Replies, as contracts for the sending server:
- RCPT TO an address no account owns → 550 5.1.1 (permanent: the sender gets a bounce).
- Larger than MAILGATEWAY_MAX_BYTES → 552 5.3.4 (SIZE is advertised in EHLO/LHLO).
- DATA → 250 only once the transaction has committed; any failure on our side (database
  down or locked, a bug) → 451 4.3.0: the sending server keeps the mail and retries.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP, Envelope, Session
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import DatabaseError, close_old_connections, connections

from . import addressing, inbound

logger = logging.getLogger(__name__)

T = TypeVar("T")

UNKNOWN_RECIPIENT = "550 5.1.1 Adresse inconnue"
TEMPORARY_FAILURE = "451 4.3.0 Erreur temporaire, réessayez plus tard"
ACCEPTED = "250 2.0.0 OK"
RECIPIENT_OK = "250 2.1.5 OK"
TOO_MANY_RECIPIENTS = "452 4.5.3 Trop de destinataires"
MAX_RECIPIENTS = 100  # RFC 5321 §4.5.3.1.8: at least 100 must be accepted


def too_large_reply(max_bytes: int) -> str:
    megabytes = max(1, round(max_bytes / (1024 * 1024)))
    return f"552 5.3.4 Message trop volumineux (max {megabytes} Mo)"


# Django work runs on this many threads per gateway process, whatever the number of SMTP
# sessions: each thread keeps at most one database connection (see keep_connections), so a
# process never holds more than this many.
DB_THREADS = 4
_db_executor = ThreadPoolExecutor(max_workers=DB_THREADS, thread_name_prefix="mailgateway-db")

# Seconds a gateway thread keeps its database connection between messages (see below).
KEPT_CONNECTION_MAX_AGE = 600


def keep_connections() -> None:
    """Keep this process's database connections between messages (PostgreSQL).

    The site-wide default is a new connection per request (DB_CONN_MAX_AGE=0, for uvicorn,
    whose request threads come and go), which here meant two connections per mail (RCPT TO
    and DATA), each costing more than storing the mail. The gateway's threads are a fixed
    pool (DB_THREADS), so keeping one connection per thread is bounded. Checked before each
    use (CONN_HEALTH_CHECKS): a connection broken meanwhile (database restarted) is replaced
    instead of failing the delivery. An explicit DB_CONN_MAX_AGE is left as it is, and so is
    a connection pool (DB_POOL): it keeps the connections already."""
    for alias in connections:
        conn = connections[alias]
        if (conn.vendor == "postgresql" and conn.settings_dict["CONN_MAX_AGE"] == 0
                and not conn.settings_dict.get("OPTIONS", {}).get("pool")):
            # The wrappers of every thread share this dict (ConnectionHandler.settings).
            conn.settings_dict["CONN_MAX_AGE"] = KEPT_CONNECTION_MAX_AGE
            conn.settings_dict["CONN_HEALTH_CHECKS"] = True


def _in_db_thread(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run Django work in a pooled worker thread, like a request: connections past their
    CONN_MAX_AGE (or broken) are closed before and after; with CONN_MAX_AGE=0 (SQLite,
    tests) each call gets its own."""
    close_old_connections()
    try:
        return fn(*args, **kwargs)
    finally:
        close_old_connections()


async def run_db(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    # thread_sensitive=False: deliveries on several SMTP sessions proceed in parallel instead
    # of queueing behind one shared thread.
    return await sync_to_async(_in_db_thread, thread_sensitive=False,
                               executor=_db_executor)(fn, *args, **kwargs)


class GatewayHandler:
    """aiosmtpd hooks. `lmtp=True` answers DATA once per recipient, as RFC 2033 requires."""

    def __init__(self, *, lmtp: bool = False) -> None:
        self.lmtp = lmtp

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, rcpt_options: list[str]) -> str:
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            return TOO_MANY_RECIPIENTS
        try:
            # An address mail keeps coming to is answered from this process's cache, without
            # a hop to a database thread; others are looked up.
            route = addressing.route_cached(address) or await run_db(addressing.route_for,
                                                                     address)
        except Exception:
            logger.exception("RCPT %s: lookup failed", address)
            return TEMPORARY_FAILURE
        if route is None:
            return UNKNOWN_RECIPIENT
        # Remembered for DATA: the message is routed as the recipient was accepted, without
        # looking each address up a second time.
        routes = getattr(envelope, "routes", None)
        if routes is None:
            routes = envelope.routes = []  # type: ignore[attr-defined]
        routes.append(route)
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return RECIPIENT_OK

    async def handle_DATA(self, server: SMTP, session: Session,
                          envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        mail_from = envelope.mail_from or "<>"
        try:
            outcomes = await run_db(inbound.ingest, raw, mail_from=mail_from,
                                    rcpt_tos=list(envelope.rcpt_tos),
                                    routes=getattr(envelope, "routes", None))
        except inbound.Unroutable:
            status = UNKNOWN_RECIPIENT
        except DatabaseError:
            logger.warning("DATA from %s: database unavailable, deferred", mail_from,
                           exc_info=True)
            status = TEMPORARY_FAILURE
        except Exception:  # a bug must not lose mail either: the sender will retry
            logger.exception("DATA from %s: ingestion failed, deferred", mail_from)
            status = TEMPORARY_FAILURE
        else:
            refs = ", ".join(sorted({o.reference for o in outcomes if o.reference}))
            status = f"{ACCEPTED} ({refs})" if refs else ACCEPTED
            logger.info("DATA from %s to %s: %s", mail_from, envelope.rcpt_tos,
                        [o.result for o in outcomes])
        if self.lmtp:
            return "\r\n".join([status] * max(1, len(envelope.rcpt_tos)))
        return status


class _FrenchSizeReplies:
    """aiosmtpd words its size refusals itself (at MAIL FROM ... SIZE= and at the end of
    DATA) with no hook to change them: rewrite those two replies on the way out."""

    data_size_limit: int | None

    async def push(self, status: Any) -> None:
        text = status.decode() if isinstance(status, bytes) else status
        if text.startswith("552 Error") and self.data_size_limit:
            status = too_large_reply(self.data_size_limit)
        await super().push(status)  # type: ignore[misc]


class GatewaySMTP(_FrenchSizeReplies, SMTP):
    pass


class GatewayLMTP(_FrenchSizeReplies, LMTP):
    pass


class GatewayController(Controller):
    """A threaded aiosmtpd controller for our server classes; port 0 picks a free port
    (read back from `.port` once started), which the tests use."""

    def __init__(self, *, host: str | None = None, port: int | None = None,
                 lmtp: bool = False, max_bytes: int | None = None,
                 server_name: str | None = None, reuse_port: bool = False) -> None:
        self.lmtp = lmtp
        # SO_REUSEPORT: several gateway processes share the port and the kernel spreads
        # the connections, so ingestion uses every core (Python runs one per process).
        self.reuse_port = reuse_port
        super().__init__(
            GatewayHandler(lmtp=lmtp),
            hostname=settings.MAILGATEWAY_HOST if host is None else host,
            port=settings.MAILGATEWAY_PORT if port is None else port,
            data_size_limit=settings.MAILGATEWAY_MAX_BYTES if max_bytes is None else max_bytes,
            enable_SMTPUTF8=True,
            # socket.getfqdn() (aiosmtpd's default) can stall on a slow resolver.
            server_hostname=server_name or socket.gethostname(),
        )

    def _create_server(self) -> Any:
        return self.loop.create_server(self._factory_invoker, host=self.hostname,
                                       port=self.port, ssl=self.ssl_context,
                                       reuse_port=self.reuse_port or None)

    def factory(self) -> SMTP:
        server_class = GatewayLMTP if self.lmtp else GatewaySMTP
        return server_class(self.handler, **self.SMTP_kwargs)

    def _trigger_server(self) -> None:
        sockets = getattr(self.server, "sockets", None)
        if self.port == 0 and sockets:
            self.port = sockets[0].getsockname()[1]
        # With SO_REUSEPORT the kernel may hand the probe connection to another process
        # sharing the port: probe again (new source port) until this one has answered.
        for _attempt in range(50 if self.reuse_port else 1):
            super()._trigger_server()
            if self._factory_invoked.is_set():
                break
