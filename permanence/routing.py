from django.urls import path

from permanence.agenda.consumers import AgendaConsumer
from permanence.core.consumers import LiveConsumer
from permanence.desk.consumers import DeskConsumer
from permanence.inbox.consumers import ConversationConsumer, InboxConsumer
from permanence.livechat.consumers import AgentChatConsumer, VisitorChatConsumer

websocket_urlpatterns = [
    path("ws/live/", LiveConsumer.as_asgi()),
    path("ws/inbox/", InboxConsumer.as_asgi()),
    path("ws/conversations/<int:pk>/", ConversationConsumer.as_asgi()),
    path("ws/desk/", DeskConsumer.as_asgi()),
    path("ws/agenda/", AgendaConsumer.as_asgi()),
    path("ws/chat/agent/", AgentChatConsumer.as_asgi()),
]

# The chat widget's sockets: opened from the clients' sites, so not behind the allowed-hosts
# origin check of the staff sockets; the consumer checks the account's allowed origins.
chat_visitor_urlpatterns = [
    path("ws/chat/visitor/<str:token>/", VisitorChatConsumer.as_asgi()),
]
