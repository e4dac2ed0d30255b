"""Article bodies: sanitised HTML (nh3, an allow-list) and the plain text derived from it."""

from __future__ import annotations

import html
import re

import nh3

# What an article may contain: text formatting, lists, links, headings, simple tables.
ALLOWED_TAGS = {"p", "br", "strong", "b", "em", "i", "u", "ul", "ol", "li", "a", "h2", "h3",
                "h4", "blockquote", "code", "pre", "table", "thead", "tbody", "tr", "th", "td",
                "hr"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"scope"}}
URL_SCHEMES = {"http", "https", "mailto", "tel"}
MAX_BODY_CHARS = 100_000

# Private-use characters mark the highlights of search snippets (knowledge.search): they are
# removed from the stored text so that no article can forge a highlight.
MARK_START, MARK_END = "\ue000", "\ue001"

_BLOCK_END = re.compile(r"</(p|li|h2|h3|h4|blockquote|pre|tr|table)>|<br\s*/?>|<hr\s*/?>", re.I)
_TAG = re.compile(r"<[^>]*>")
_SPACES = re.compile(r"[ \t\r\f\v]+")
_LINES = re.compile(r"\n\s*\n+")


def clean(body: str) -> str:
    """The HTML that may be stored and shown: scripts, event handlers, styles, iframes and
    unknown schemes are stripped; links get rel="noopener noreferrer nofollow"."""
    text = (body or "")[:MAX_BODY_CHARS].replace(MARK_START, "").replace(MARK_END, "")
    return nh3.clean(text, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                     url_schemes=URL_SCHEMES, link_rel="noopener noreferrer nofollow",
                     clean_content_tags={"script", "style"}).strip()


def plain_text(clean_html: str) -> str:
    """The text of sanitised HTML (one line per paragraph), for search, snippets and the bot."""
    text = _BLOCK_END.sub("\n", clean_html or "")
    text = html.unescape(_TAG.sub(" ", text))
    text = text.replace(MARK_START, "").replace(MARK_END, "")
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _LINES.sub("\n\n", "\n".join(line for line in lines if line)).strip()
