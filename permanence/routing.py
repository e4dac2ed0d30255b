from django.urls import path

from permanence.agenda.consumers import AgendaConsumer
from permanence.core.consumers import LiveConsumer
from permanence.desk.consumers import DeskConsumer
from permanence.inbox.consumers import ConversationConsumer, InboxConsumer

websocket_urlpatterns = [
    path("ws/live/", LiveConsumer.as_asgi()),
    path("ws/inbox/", InboxConsumer.as_asgi()),
    path("ws/conversations/<int:pk>/", ConversationConsumer.as_asgi()),
    path("ws/desk/", DeskConsumer.as_asgi()),
    path("ws/agenda/", AgendaConsumer.as_asgi()),
]
