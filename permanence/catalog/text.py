"""Editable page text rendered safely: no raw HTML, a tiny line-based syntax.

- blank lines separate paragraphs (single line breaks are kept);
- a line starting with "## " is a heading (h2), "### " a sub-heading (h3);
- consecutive lines starting with "- " form a bulleted list.
Everything is escaped: whatever an editor types, no markup reaches the page.
"""

from __future__ import annotations

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe


def render_text(body: str, *, heading_level: int = 2) -> SafeString:
    out: list[str] = []
    paragraph: list[str] = []
    items: list[str] = []
    h2, h3 = f"h{heading_level}", f"h{heading_level + 1}"

    def flush() -> None:
        if paragraph:
            out.append("<p>" + "<br>".join(escape(line) for line in paragraph) + "</p>")
            paragraph.clear()
        if items:
            out.append("<ul>" + "".join(f"<li>{escape(i)}</li>" for i in items) + "</ul>")
            items.clear()

    for raw in (body or "").replace("\r\n", "\n").split("\n"):
        line = raw.strip()
        if not line:
            flush()
        elif line.startswith("### "):
            flush()
            out.append(f"<{h3}>{escape(line[4:].strip())}</{h3}>")
        elif line.startswith("## "):
            flush()
            out.append(f"<{h2}>{escape(line[3:].strip())}</{h2}>")
        elif line.startswith("- "):
            if paragraph:
                flush()
            items.append(line[2:].strip())
        else:
            if items:
                flush()
            paragraph.append(line)
    flush()
    return mark_safe("\n".join(out))  # noqa: S308 — every piece above is escaped  # nosec B308 B703
