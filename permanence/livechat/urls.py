from django.urls import path

from . import views_agent, views_visitor

app_name = "livechat"

urlpatterns = [
    # The secretaries' console.
    path("app/chats/", views_agent.console, name="console"),
    path("app/chats/<int:pk>/prendre/", views_agent.accept, name="accept"),
    path("app/chats/<int:pk>/repondre/", views_agent.reply, name="reply"),
    path("app/chats/<int:pk>/transferer/", views_agent.transfer, name="transfer"),
    path("app/chats/<int:pk>/terminer/", views_agent.end, name="end"),
    path("app/chats/reglages/<int:account_id>/", views_agent.chat_settings, name="settings"),
    # The visitor's side: from the client's site (origins checked per account).
    path("chat/<slug:slug>/widget.js", views_visitor.widget_js, name="widget"),
    path("chat/<slug:slug>/start", views_visitor.start, name="start"),
    path("chat/<slug:slug>/demo/", views_visitor.demo_site, name="demo_site"),
    path("chat/api/<str:token>/messages", views_visitor.messages, name="messages"),
    path("chat/api/<str:token>/actions", views_visitor.actions, name="actions"),
    path("chat/api/<str:token>/attachments", views_visitor.attachments, name="attachments"),
]
