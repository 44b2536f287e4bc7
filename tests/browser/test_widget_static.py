"""Static checks of the widget and demo page files (no browser, no server)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

WEB = Path(__file__).resolve().parents[2] / "bot" / "web"
WIDGET = WEB / "static" / "widget.js"
DEMO = WEB / "pages" / "demo.html"


def test_widget_never_parses_html():
    source = WIDGET.read_text(encoding="utf-8")
    code = re.sub(r"/\*.*?\*/", "", source, flags=re.DOTALL)  # the header comment may name the APIs
    for forbidden in (
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "document.write",
        "eval(",
        "new Function",
        "DOMParser",
        "createContextualFragment",
        "srcdoc",
    ):
        assert forbidden not in code, forbidden


def test_widget_has_no_external_dependencies():
    code = WIDGET.read_text(encoding="utf-8")
    for token in ("import ", "require(", "//cdn", "googleapis", "@import"):
        assert token not in code, token
    # Only absolute URLs allowed: the SVG namespace.
    assert set(
        re.findall(r"https?://[\w./-]+", re.sub(r"/\*.*?\*/", "", code, flags=re.DOTALL))
    ) <= {
        "http://www.w3.org/2000/svg",
    }


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.scripts: list[dict] = []
        self.urls: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script":
            self.scripts.append(a)
        for name in ("src", "href", "action", "srcset", "poster", "data"):
            if a.get(name):
                self.urls.append(a[name])

    def handle_data(self, data):
        self.text.append(data)


def test_demo_page_is_self_contained():
    html = DEMO.read_text(encoding="utf-8")
    c = _Collector()
    c.feed(html)
    assert c.scripts == [
        {"src": "/webchat/widget.js", "data-title": "Northbridge Services", "defer": None}
    ]
    assert (
        '<script src="/webchat/widget.js" data-title="Northbridge Services" defer></script>' in html
    )
    for url in c.urls:
        assert not re.match(r"^(https?:)?//", url), f"external resource: {url}"
    assert "url(" not in html and "@import" not in html
    text = " ".join(c.text)
    assert "DEMO" in text and "Northbridge" in text
