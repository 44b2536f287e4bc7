"""The answer format: a small, safe subset of Markdown, read once and rendered for each channel.

What staff may write in an answer (anything else is plain text, shown as written):
- paragraphs, separated by a blank line (a single line break stays a line break);
- list items: lines starting with "- " or "* " (bullets) or "1. " (numbered; up to three digits);
  an indented line right under an item continues it, any other line ends the list (so the
  "Source: ..." line the bot adds under an answer stays a line of its own);
- links `[label](url)` whose url is `https://...`, `tel:+1...` or `mailto:someone@example.org`.
  Any other link (javascript:, data:, http:, vbscript:, relative...) is dropped: its label stays
  as plain text and the url is not kept. Bare URLs stay text (channels show them as they do today).

There is no other markup: HTML such as `<script>` is text, escaped by every renderer that produces
HTML, never interpreted. `parse` never raises. Text that uses none of the format renders in plain
text exactly as written (`to_plain(parse(x)) == x`, up to "\\r\\n" line ends, whitespace-only
lines, and blank lines at the ends or in runs, which are made single).

Renderers: `to_plain` (SMS, WhatsApp, Messenger), `to_telegram_html` (Telegram's HTML parse mode),
`to_html` (the console's preview) and `to_blocks` (JSON for the web widget, which builds the DOM
with createElement and textContent).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = [
    "Block",
    "Document",
    "Link",
    "ListBlock",
    "Paragraph",
    "Span",
    "Text",
    "allowed_url",
    "parse",
    "problems",
    "telegram_visible",
    "to_blocks",
    "to_html",
    "to_plain",
    "to_telegram_html",
]


@dataclass(frozen=True, slots=True)
class Text:
    """Plain text (may hold line breaks inside a paragraph or an item)."""

    text: str


@dataclass(frozen=True, slots=True)
class Link:
    """A link whose url passed `allowed_url`."""

    label: str
    url: str


Span = Text | Link


@dataclass(frozen=True, slots=True)
class Paragraph:
    spans: tuple[Span, ...]


@dataclass(frozen=True, slots=True)
class ListBlock:
    ordered: bool
    items: tuple[tuple[Span, ...], ...]
    start: int = 1  # the first number of a numbered list


Block = Paragraph | ListBlock


@dataclass(frozen=True, slots=True)
class Document:
    blocks: tuple[Block, ...]


# An item marker: up to 3 spaces, "-", "*" or a number of 1-3 digits and ".", then a space and text.
_ITEM = re.compile(r"^ {0,3}(?:([-*])|([0-9]{1,3})\.)[ \t]+(?=\S)")
# [label](url): the label on one line without brackets; the url on that line, without parentheses
# except balanced pairs (https://en.wikipedia.org/wiki/Foo_(bar)). Whatever it holds, the link is
# then kept or dropped by `allowed_url`.
_LINK = re.compile(r"\[([^\[\]\n]+)\]\(([^()\n]*(?:\([^()\n]*\)[^()\n]*)*)\)")
# Never in a URL we keep: controls, space, and what RFC 3986 leaves out ("<", ">", '"', "`"...).
_NOT_IN_URL = frozenset('<>"`{}|\\^') | {chr(c) for c in range(0x21)} | {"\x7f"}
_TEL = re.compile(r"^tel:\+?[0-9][0-9().-]{2,30}$", re.IGNORECASE)
_MAILTO = re.compile(r"^mailto:[^@?#/\\,;:]+@[^@?#/\\,;:]+\.[^@?#/\\,;:]+$", re.IGNORECASE)
_TAG = re.compile(r"</?([A-Za-z][A-Za-z0-9-]{0,30})\b[^>]{0,200}>")
_SHOWN_URL = 80  # longest url quoted whole in a problem message


def allowed_url(url: str) -> bool:
    """Whether a link may point at `url`: https with a host, a phone number, or one e-mail address
    (no control characters, spaces, or extra mail headers)."""
    if not url or any(ch in _NOT_IN_URL for ch in url):
        return False
    lower = url.lower()
    if lower.startswith("tel:"):
        return bool(_TEL.match(url))
    if lower.startswith("mailto:"):
        return bool(_MAILTO.match(url))
    if not lower.startswith("https://"):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:  # a bad IPv6 literal
        return False
    return parts.scheme.lower() == "https" and bool(parts.hostname)


def _spans(text: str, dropped: list[str]) -> tuple[Span, ...]:
    """Inline content: text and allowed links; a refused link leaves its label as text."""
    spans: list[Span] = []
    plain: list[str] = []
    pos = 0
    for match in _LINK.finditer(text):
        label, url = match.group(1), match.group(2).strip()
        plain.append(text[pos : match.start()])
        pos = match.end()
        if allowed_url(url):
            if "".join(plain):
                spans.append(Text("".join(plain)))
            plain = []
            spans.append(Link(label if label.strip() else url, url))
        else:
            dropped.append(url)
            plain.append(label)
    plain.append(text[pos:])
    if "".join(plain):
        spans.append(Text("".join(plain)))
    return tuple(spans)


def _read(text: str) -> tuple[Document, list[str]]:
    """The document, and the urls of the links it dropped."""
    lines = str(text).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    dropped: list[str] = []
    blocks: list[Block] = []
    paragraph: list[str] = []
    items: list[list[str]] = []
    ordered, start = False, 1

    def close() -> None:
        nonlocal items
        if paragraph:
            blocks.append(Paragraph(_spans("\n".join(paragraph), dropped)))
            paragraph.clear()
        if items:
            spans = tuple(_spans("\n".join(item), dropped) for item in items)
            blocks.append(ListBlock(ordered, spans, start))
            items = []

    for line in lines:
        if not line.strip():
            close()
            continue
        marker = _ITEM.match(line)
        if marker is None:
            if items and line[:1] in (" ", "\t"):
                items[-1].append(line.lstrip())  # continues the item above
                continue
            if items:
                close()
            paragraph.append(line)
            continue
        numbered = marker.group(2) is not None
        if paragraph or (items and numbered != ordered):
            close()
        if not items:
            ordered, start = numbered, int(marker.group(2)) if numbered else 1
        items.append([line[marker.end() :]])
    close()
    return Document(tuple(blocks)), dropped


def parse(text: str) -> Document:
    """Read `text` in the answer format. Never raises; a refused link is kept as its label."""
    return _read(text)[0]


def _shown(url: str) -> str:
    return url if len(url) <= _SHOWN_URL else url[: _SHOWN_URL - 1] + "…"


def problems(text: str) -> list[str]:
    """What an editor should know about `text`: dropped links, HTML shown as text."""
    _, dropped = _read(text)
    found = [
        f"link to {_shown(url) or 'nothing'} dropped: only https, tel and mailto links are allowed"
        for url in dict.fromkeys(dropped)
    ]
    tags = dict.fromkeys(m.group(1).lower() for m in _TAG.finditer(str(text)))
    found += [f"<{tag}> is shown as text: HTML is not interpreted" for tag in tags]
    return found


# ---------------------------------------------------------------- renderers


def _contact(url: str) -> str | None:
    """The number of a tel: link, the address of a mailto: link, None for a web link."""
    scheme, _, rest = url.partition(":")
    return rest if scheme.lower() in ("tel", "mailto") else None


def _plain_link(link: Link) -> str:
    target = _contact(link.url) or link.url
    return target if link.label in (link.url, target) else f"{link.label} ({target})"


def _render(
    doc: Document,
    text: Callable[[str], str],
    link: Callable[[Link], str],
) -> str:
    """Paragraphs and "• " / "1. " list lines, blocks separated by a blank line."""

    def inline(spans: tuple[Span, ...]) -> str:
        return "".join(text(s.text) if isinstance(s, Text) else link(s) for s in spans)

    out: list[str] = []
    for block in doc.blocks:
        if isinstance(block, Paragraph):
            out.append(inline(block.spans))
            continue
        out.append(
            "\n".join(
                f"{block.start + i}. " + inline(item) if block.ordered else "• " + inline(item)
                for i, item in enumerate(block.items)
            )
        )
    return "\n\n".join(out)


def to_plain(doc: Document) -> str:
    """Plain text (SMS, WhatsApp, Messenger): links as "label (url)", or the url, number or
    address alone when the label says nothing more."""
    return _render(doc, lambda s: s, _plain_link)


def to_words(doc: Document) -> str:
    """The words a reader reads: link labels without their addresses (what retrieval encodes)."""
    return _render(doc, lambda s: s, lambda link: link.label)


def _telegram_link(link: Link) -> str:
    # Telegram shows mailto: links as broken web links and tel: ones not at all; its clients make
    # phone numbers and addresses in text tappable by themselves.
    if _contact(link.url) is not None:
        return html.escape(_plain_link(link), quote=False)
    return f'<a href="{html.escape(link.url)}">{html.escape(link.label, quote=False)}</a>'


def to_telegram_html(doc: Document) -> str:
    """Text for Telegram's parse_mode HTML: everything escaped, web links as <a href>."""
    return _render(doc, lambda s: html.escape(s, quote=False), _telegram_link)


def telegram_visible(doc: Document) -> str:
    """What a Telegram user sees of `to_telegram_html(doc)` (its length is what Telegram limits)."""
    return _render(
        doc,
        lambda s: s,
        lambda link: _plain_link(link) if _contact(link.url) is not None else link.label,
    )


def _html_spans(spans: tuple[Span, ...]) -> str:
    out = []
    for span in spans:
        if isinstance(span, Text):
            out.append(html.escape(span.text).replace("\n", "<br>\n"))
        else:
            out.append(
                f'<a href="{html.escape(span.url)}" rel="noopener noreferrer" target="_blank">'
                f"{html.escape(span.label)}</a>"
            )
    return "".join(out)


def to_html(doc: Document) -> str:
    """Escaped HTML for the console's preview: <p>, <ul>/<ol> with <li>, and <a>."""
    out = []
    for block in doc.blocks:
        if isinstance(block, Paragraph):
            out.append(f"<p>{_html_spans(block.spans)}</p>")
            continue
        items = "".join(f"<li>{_html_spans(item)}</li>" for item in block.items)
        if not block.ordered:
            out.append(f"<ul>{items}</ul>")
        elif block.start == 1:
            out.append(f"<ol>{items}</ol>")
        else:
            out.append(f'<ol start="{block.start}">{items}</ol>')
    return "\n".join(out)


def _json_spans(spans: tuple[Span, ...]) -> list[dict[str, str]]:
    return [
        {"type": "text", "text": s.text}
        if isinstance(s, Text)
        else {"type": "link", "text": s.label, "href": s.url}
        for s in spans
    ]


def to_blocks(doc: Document) -> list[dict[str, object]]:
    """JSON for the web widget: {"type": "paragraph", "spans"} and {"type": "list", "ordered",
    "start", "items"}; a span is {"type": "text", "text"} or {"type": "link", "text", "href"}."""
    out: list[dict[str, object]] = []
    for block in doc.blocks:
        if isinstance(block, Paragraph):
            out.append({"type": "paragraph", "spans": _json_spans(block.spans)})
        else:
            out.append(
                {
                    "type": "list",
                    "ordered": block.ordered,
                    "start": block.start,
                    "items": [_json_spans(item) for item in block.items],
                }
            )
    return out
