"""HTML received from outside (an e-mail's HTML part), sanitised with nh3 before it is stored.

The inbox shows the text of a mail, never its HTML; the HTML is kept for what may render it
later (an export, an API reader, a future viewer), so it is stored already inert: no script,
no style, no event handler, no form, no frame, no image (a remote image is a read receipt
the sender controls), only http(s), mailto and tel links. Knowledge articles have their own,
stricter allow-list (knowledge.html)."""

from __future__ import annotations

import nh3

MAIL_TAGS = frozenset(nh3.ALLOWED_TAGS) - {"img", "map", "area"}
URL_SCHEMES = {"http", "https", "mailto", "tel"}
# Longer than any mail the gateway accepts in text (MAILGATEWAY_MAX_BYTES is 25 MiB raw).
MAX_HTML_CHARS = 5_000_000


def clean_mail_html(html: str) -> str:
    if not html:
        return ""
    return nh3.clean(html[:MAX_HTML_CHARS], tags=set(MAIL_TAGS),
                     clean_content_tags={"script", "style"}, url_schemes=URL_SCHEMES,
                     link_rel="noopener noreferrer nofollow")
