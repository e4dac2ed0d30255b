"""The bot answers first: each question of a chat still with the assistant goes to the
knowledge base's bot (knowledge.bot.answer, local: no network), then its answer is
recorded (services.bot_exchange_record) or the chat is handed to a human."""

from __future__ import annotations

import logging

from permanence.inbox.models import Message
from permanence.knowledge.bot import answer

from . import services
from .models import ChatSession, ChatStatus

logger = logging.getLogger(__name__)



def bot_answer(session: ChatSession, question: Message) -> ChatSession:
    """Run after the visitor's message is committed (never in its transaction)."""
    if session.status != ChatStatus.BOT:
        return session
    try:
        result = answer(session.account, question.body_text)
    except Exception:  # the bot failing must not lose the visitor: a human takes over
        logger.exception("bot answer failed for chat %s", session.pk)
        return services.handover(session=session, reason="bot_error")
    services.bot_exchange_record(session=session, question=question, answer=result)
    if result.handover:
        return services.handover(session=session, reason="bot")
    return session
