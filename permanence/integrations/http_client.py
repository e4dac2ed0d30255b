"""Outgoing HTTP for webhooks: URL checks, the SSRF guard, and a POST pinned to a checked IP.

The guard resolves the host name and refuses private, loopback, link-local, reserved,
multicast or unspecified addresses (unless the endpoint allows private targets). The
connection is then made to the very address that was checked (TLS still verifies the
certificate against the host name), so a DNS answer that changes between the check and
the connection (DNS rebinding) cannot reach an internal service. Redirects are never
followed and proxy settings from the environment are ignored.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from django.utils.translation import gettext as _

ALLOWED_SCHEMES = ("http", "https")
EXCERPT_BYTES = 500


class UrlRefused(Exception):
    """The URL is malformed, or its host resolves to an address we refuse (message in French)."""


def address_is_blocked(address: str) -> bool:
    """True for any address that is not a public unicast Internet address."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id
    except ValueError:
        return True
    if isinstance(ip, ipaddress.IPv6Address):
        mapped = ip.ipv4_mapped or ip.sixtofour
        if mapped is not None and address_is_blocked(str(mapped)):
            return True
    return (not ip.is_global or ip.is_private or ip.is_loopback or ip.is_link_local
            or ip.is_reserved or ip.is_multicast or ip.is_unspecified)


def parse_url(url: str) -> SplitResult:
    """The split URL if it is an absolute http(s) URL with a host, else UrlRefused."""
    try:
        parts = urlsplit((url or "").strip())
        port = parts.port  # raises ValueError on a bad port
    except ValueError:
        raise UrlRefused(_("URL invalide.")) from None
    if parts.scheme not in ALLOWED_SCHEMES:
        raise UrlRefused(_("Seules les URL http:// et https:// sont acceptées."))
    if not parts.hostname:
        raise UrlRefused(_("L'URL doit comporter un nom d'hôte."))
    if port == 0:
        raise UrlRefused(_("Port invalide."))
    return parts


def resolve(host: str, port: int) -> list[str]:
    """Every address the host name resolves to (an IP literal resolves to itself)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError):
        raise UrlRefused(_("Nom d'hôte introuvable : %(host)s.") % {"host": host}) from None
    addresses: list[str] = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        address = str(sockaddr[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise UrlRefused(_("Nom d'hôte introuvable : %(host)s.") % {"host": host})
    return addresses


def default_port(parts: SplitResult) -> int:
    return parts.port or (443 if parts.scheme == "https" else 80)


def check_url(url: str, *, allow_private: bool) -> list[str]:
    """Validate the URL and resolve it; the addresses a request may connect to."""
    parts = parse_url(url)
    host = parts.hostname or ""
    addresses = resolve(host, default_port(parts))
    if not allow_private:
        blocked = [a for a in addresses if address_is_blocked(a)]
        if blocked:
            raise UrlRefused(
                _("« %(host)s » désigne une adresse privée ou locale (%(address)s) : refusée. "
                  "Un administrateur peut l'autoriser explicitement.")
                % {"host": host, "address": blocked[0]})
    return addresses


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, *, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, *, address: str, timeout: float) -> None:
        self._tls = ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self._tls)
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        # Certificate and SNI checked against the host name, not the pinned address.
        self.sock = self._tls.wrap_socket(sock, server_hostname=self.host)


@dataclass(frozen=True)
class HttpResult:
    status_code: int | None
    error: str
    duration_ms: int
    excerpt: str

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def post(url: str, body: bytes, headers: dict[str, str], *, allow_private: bool,
         timeout: float) -> HttpResult:
    """POST `body`; never raises for network problems (they come back in `error`).

    UrlRefused is raised when the guard refuses the target: nothing was sent."""
    parts = parse_url(url)
    addresses = check_url(url, allow_private=allow_private)
    host = parts.hostname or ""
    port = default_port(parts)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    connection_class = (_PinnedHTTPSConnection if parts.scheme == "https"
                        else _PinnedHTTPConnection)
    started = time.monotonic()
    last_error = ""
    for address in addresses:
        connection = connection_class(host, port, address=address, timeout=timeout)
        try:
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            excerpt = response.read(EXCERPT_BYTES).decode("utf-8", "replace")
            return HttpResult(response.status, "" if 200 <= response.status < 300
                              else f"HTTP {response.status} {response.reason}"[:500],
                              _elapsed(started), excerpt)
        except (OSError, http.client.HTTPException, ValueError) as exc:
            last_error = f"{exc.__class__.__name__}: {exc}"[:500]
            # Try the next address only if this one refused the connection outright.
            if not isinstance(exc, ConnectionRefusedError | socket.gaierror):
                break
        finally:
            connection.close()
    return HttpResult(None, last_error or "Échec de connexion.", _elapsed(started), "")


def _elapsed(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
