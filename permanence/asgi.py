"""ASGI entry point: HTTP (Django) and websockets (Channels) in one process type."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "permanence.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from permanence.core.body_limit import RequestBodyLimit  # noqa: E402
from permanence.core.live_guard import LiveUnavailableGuard  # noqa: E402
from permanence.core.startup_gc import freeze_loaded_code  # noqa: E402
from permanence.desk.webhook import TelephonyFastPath  # noqa: E402
from permanence.livechat.origins import visitor_socket_router  # noqa: E402
from permanence.routing import chat_visitor_urlpatterns, websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        # The PBX's call events skip Django's middleware stack (see desk/webhook.py).
        # Bodies over REQUEST_MAX_BYTES refused before they are read (core/body_limit.py).
        "http": RequestBodyLimit(TelephonyFastPath(django_asgi_app)),
        # The chat widget's sockets come from clients' sites: livechat checks their origin.
        # Redis down: sockets close with 4503 and the pages poll (core/live_guard.py).
        "websocket": LiveUnavailableGuard(visitor_socket_router(
            URLRouter(chat_visitor_urlpatterns),
            AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
        )),
    }
)

# The code is loaded: out of the garbage collector's way (core/startup_gc.py).
freeze_loaded_code()
