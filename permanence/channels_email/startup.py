"""What the e-mail channel registers once the apps are loaded (ChannelsEmailConfig.ready())."""

from __future__ import annotations

from permanence.inbox.delivery import sender_register
from permanence.inbox.reach import ReplyChannel, reply_channel_register
from permanence.inbox.surveys.services import survey_identity_register

from .outbound import contact_mail_identity, reply_address_of, send_acknowledgement, send_reply

# The inbox sends e-mail through what its channels register: it does not import them.
sender_register(acknowledgement=send_acknowledgement)
reply_channel_register(ReplyChannel(name="email", address_of=reply_address_of, send=send_reply))
# The satisfaction survey goes out under the account's name too.
survey_identity_register(contact_mail_identity)
