"""Which sites may embed an account's chat: its allowed origins (ChatSettings), checked on
the websocket handshake and on every call of the visitor API; CORS headers only for them.

The visitor's socket comes from the client's site, whose origin is not one of our hosts:
`visitor_socket_router` sends it past Channels' AllowedHostsOriginValidator (which guards the
staff sockets) to the visitor consumer, which checks the origin against the account's list."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse

from .models import ChatSettings

VISITOR_SOCKET_PREFIX = "/ws/chat/visitor/"


def normalise(origin: str) -> str:
    return (origin or "").strip().rstrip("/").lower()


def allowed(chat_settings: ChatSettings, origin: str) -> bool:
    origin = normalise(origin)
    return bool(origin) and origin != "null" and origin in chat_settings.origins()


def request_origin(request: HttpRequest) -> str:
    return normalise(request.headers.get("Origin", ""))


def with_cors(response: HttpResponse, origin: str) -> HttpResponse:
    """CORS for an allowed origin (the caller checked it). No credentials: no cookie."""
    response["Access-Control-Allow-Origin"] = origin
    response["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
    response["Access-Control-Allow-Headers"] = "Content-Type"
    response["Access-Control-Max-Age"] = "600"
    response["Vary"] = "Origin"
    return response


def scope_origin(scope: dict[str, Any]) -> str:
    for name, value in scope.get("headers", []):
        if name == b"origin":
            return normalise(value.decode("latin-1"))
    return ""


def visitor_socket_router(visitor_app: Any, others: Any) -> Any:
    """An ASGI app: the visitor's chat sockets to `visitor_app`, every other to `others`."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if scope["type"] == "websocket" and scope.get("path", "").startswith(
                VISITOR_SOCKET_PREFIX):
            return await visitor_app(scope, receive, send)
        return await others(scope, receive, send)

    return app
