"""The answer format: parsing, the four renderers, refused links, HTML as text, and the promise that
plain answers render exactly as written."""

from __future__ import annotations

import random
import re
import time
from pathlib import Path

import pytest
import yaml

from bot.messages import CATALOG
from connectors.rich_text import (
    Document,
    Link,
    ListBlock,
    Paragraph,
    Text,
    allowed_url,
    parse,
    problems,
    telegram_visible,
    to_blocks,
    to_html,
    to_plain,
    to_telegram_html,
)

FAQS = Path(__file__).resolve().parents[2] / "data" / "faqs"
RENDERERS = (to_plain, to_telegram_html, to_html, lambda d: repr(to_blocks(d)))

ANSWER = """To renew, bring:

- your old passport
* two [photos](https://passports.example/photos)
  taken in the last 6 months

3. Call [us](tel:+1-800-555-0163)
4. Or write to [mailto:help@passports.example](mailto:help@passports.example)
Source: https://passports.example/renew"""


def test_paragraphs_lists_and_links_are_read() -> None:
    assert parse(ANSWER) == Document(
        (
            Paragraph((Text("To renew, bring:"),)),
            ListBlock(
                False,
                (
                    (Text("your old passport"),),
                    (
                        Text("two "),
                        Link("photos", "https://passports.example/photos"),
                        Text("\ntaken in the last 6 months"),
                    ),
                ),
            ),
            ListBlock(
                True,
                (
                    (Text("Call "), Link("us", "tel:+1-800-555-0163")),
                    (
                        Text("Or write to "),
                        Link("mailto:help@passports.example", "mailto:help@passports.example"),
                    ),
                ),
                start=3,
            ),
            Paragraph((Text("Source: https://passports.example/renew"),)),
        )
    )


def test_plain_text_for_sms_and_messenger() -> None:
    assert to_plain(parse(ANSWER)) == (
        "To renew, bring:\n\n"
        "• your old passport\n"
        "• two photos (https://passports.example/photos)\ntaken in the last 6 months\n\n"
        "3. Call us (+1-800-555-0163)\n"
        "4. Or write to help@passports.example\n\n"
        "Source: https://passports.example/renew"
    )
    same = "[https://a.example/x](https://a.example/x) [+18005550163](tel:+18005550163)"
    assert to_plain(parse(same)) == "https://a.example/x +18005550163"


def test_telegram_html_links_web_pages_and_leaves_numbers_and_addresses_as_text() -> None:
    html = to_telegram_html(parse(ANSWER))
    assert '• two <a href="https://passports.example/photos">photos</a>\n' in html
    # Telegram shows mailto: as a broken web link and tel: not at all; its apps link them anyway.
    assert "3. Call us (+1-800-555-0163)\n4. Or write to help@passports.example" in html
    assert re.findall(r"<[^>]*>", html) == ['<a href="https://passports.example/photos">', "</a>"]
    assert telegram_visible(parse(ANSWER)).count("photos") == 1


def test_console_preview_html() -> None:
    html = to_html(parse(ANSWER))
    assert html.startswith("<p>To renew, bring:</p>\n<ul><li>your old passport</li><li>two <a ")
    assert (
        '<a href="https://passports.example/photos" rel="noopener noreferrer" '
        'target="_blank">photos</a><br>\ntaken' in html
    )
    assert '<ol start="3"><li>Call <a href="tel:+1-800-555-0163"' in html


def test_widget_blocks_are_plain_json() -> None:
    blocks = to_blocks(parse("Hi [there](https://a.example)\n\n1. one\n2. two"))
    assert blocks == [
        {
            "type": "paragraph",
            "spans": [
                {"type": "text", "text": "Hi "},
                {"type": "link", "text": "there", "href": "https://a.example"},
            ],
        },
        {
            "type": "list",
            "ordered": True,
            "start": 1,
            "items": [[{"type": "text", "text": "one"}], [{"type": "text", "text": "two"}]],
        },
    ]


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JavaScript:alert(document.cookie)",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        "vbscript:msgbox(1)",
        "http://plain.example/page",
        "/relative/page",
        "//evil.example",
        "https:evil.example",
        "https:///nohost",
        "ftp://files.example",
        "tel:call-me",
        "mailto:a@b.example?bcc=everyone@b.example",
        "https://[::1",
    ],
)
def test_other_links_are_dropped_and_their_label_kept(url: str) -> None:
    text = f"Click [here]({url}) now"
    doc = parse(text)
    assert doc == Document((Paragraph((Text("Click here now"),)),))
    for render in RENDERERS:
        assert url not in render(doc)
    assert to_plain(doc) == "Click here now"
    assert problems(text) == [
        f"link to {url} dropped: only https, tel and mailto links are allowed"
    ]


def test_script_stays_text_in_every_renderer() -> None:
    url = "https://a.example/?q=1&r='2'"
    text = f'<script>alert("x")</script> & [<b>bold</b>]({url})'
    doc = parse(text)
    assert to_plain(doc) == f'<script>alert("x")</script> & <b>bold</b> ({url})'
    assert to_telegram_html(doc) == (
        '&lt;script&gt;alert("x")&lt;/script&gt; &amp; '
        '<a href="https://a.example/?q=1&amp;r=&#x27;2&#x27;">&lt;b&gt;bold&lt;/b&gt;</a>'
    )
    html = to_html(doc)
    assert "<script" not in html and "<b>" not in html
    assert html.startswith("<p>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; <a ")
    assert 'href="https://a.example/?q=1&amp;r=&#x27;2&#x27;"' in html
    spans = to_blocks(doc)[0]["spans"]
    assert spans[0] == {"type": "text", "text": '<script>alert("x")</script> & '}
    assert problems(text) == [
        "<script> is shown as text: HTML is not interpreted",
        "<b> is shown as text: HTML is not interpreted",
    ]
    # A url that would end the attribute is refused, not escaped.
    assert to_html(parse('[x](https://a.example/"onclick="alert(1))')) == "<p>x</p>"


def test_odd_links_are_dropped_too() -> None:
    for text in (
        "[x](javascript: alert(1))",
        '[x](https://a.example "title")',
        "[x](data:text/html,<b>x</b>)",
        "[x]()",
    ):
        assert to_plain(parse(text)) == "x", text
        assert problems(text)[0].endswith("only https, tel and mailto links are allowed")


def test_long_hostile_input_is_read_quickly() -> None:
    for text in ("[a](" * 5000, "[" * 20000, "[a](" + "(" * 20000, "- [x](" * 4000):
        started = time.perf_counter()
        to_html(parse(text))
        assert time.perf_counter() - started < 1.0


def test_an_agent_s_text_with_angle_brackets_is_escaped_for_telegram() -> None:
    text = "Your file <#4512> is ready: see a<b & c>d"
    assert to_telegram_html(parse(text)) == (
        "Your file &lt;#4512&gt; is ready: see a&lt;b &amp; c&gt;d"
    )


def test_allowed_urls() -> None:
    for url in (
        "https://a.example",
        "HTTPS://A.EXAMPLE/x?y=1#z",
        "tel:+1-800-555-0163",
        "tel:18005550163",
        "mailto:help@a.example",
    ):
        assert allowed_url(url), url
    for url in ("https://a.example/\x00", "https://a.example/ x", "tel:", "mailto:nobody", ""):
        assert not allowed_url(url), url


def _tags(html: str) -> list[str]:
    return re.findall(r"<[^>]*>", html)


_TELEGRAM_TAG = re.compile(r'^(</a>|<a href="([^"<>]*)">)$')
_HTML_TAG = re.compile(
    r'^(</?(p|ul|li)>|<ol( start="\d+")?>|</ol>|<br>|</a>|'
    r'<a href="([^"<>]*)" rel="noopener noreferrer" target="_blank">)$'
)
_ALPHABET = (
    "ab 1.-*[]()<>&\"'\n\n\t:/\\#?@+;=%\u2022\u00e9\ud800\x00" + "https://tel:mailto:javascript:"
)


def _random_text(rng: random.Random) -> str:
    return "".join(rng.choice(_ALPHABET) for _ in range(rng.randint(0, 120)))


def _pieces(rng: random.Random) -> str:
    pieces = [
        "- ",
        "* ",
        "12. ",
        "[label](",
        "https://a.example/p",
        "javascript:alert(1)",
        "tel:+18005550163",
        "mailto:x@y.example",
        ")",
        "\n",
        "\n\n",
        "  ",
        "<script>",
        "&amp;",
        '"',
        "(",
        "]",
    ]
    return "".join(rng.choice(pieces) for _ in range(rng.randint(0, 30)))


def test_fuzz_parse_never_raises_and_only_safe_markup_comes_out() -> None:
    rng = random.Random(20240610)
    for _ in range(4000):
        text = _random_text(rng) if rng.random() < 0.5 else _pieces(rng)
        doc = parse(text)
        problems(text)
        plain = to_plain(doc)
        assert isinstance(plain, str)
        for tag in _tags(to_telegram_html(doc)):
            match = _TELEGRAM_TAG.match(tag)
            assert match, (text, tag)
            assert match.group(2) is None or match.group(2).startswith("https://")
        for tag in _tags(to_html(doc)):
            match = _HTML_TAG.match(tag)
            assert match, (text, tag)
            href = match.group(4)
            assert href is None or href.split(":", 1)[0].lower() in ("https", "tel", "mailto")
        for block in to_blocks(doc):
            items = block.get("items") or [block.get("spans")]
            for spans in items:
                for span in spans:
                    assert span["type"] == "text" or allowed_url(span["href"])


def test_fuzz_text_without_markup_renders_as_written() -> None:
    rng = random.Random(7)
    words = [
        "Bonjour",
        "l'aide",
        "1)",
        "2024.",
        "$10,000",
        "(ID)",
        "x*y",
        "é",
        "https://a.ex/b",
        "-",
    ]
    for _ in range(2000):
        lines = [  # a line may not start with "- " (that is a list item)
            " ".join(
                [rng.choice(words[:-1]), *(rng.choice(words) for _ in range(rng.randint(0, 7)))]
            )
            for _ in range(rng.randint(1, 4))
        ]
        text = rng.choice(["\n", "\n\n"]).join(lines)
        assert to_plain(parse(text)) == text


def _faq_answers() -> list[tuple[str, str]]:
    found = []
    for path in sorted(FAQS.glob("*.yml")):
        for faq in yaml.safe_load(path.read_text(encoding="utf-8"))["faqs"]:
            answer = faq["answer"]
            found.append((faq["id"], answer))
            if faq.get("source_url"):  # what actions/replies.py sends: the answer and its source
                found.append((faq["id"] + "+source", f"{answer}\nSource: {faq['source_url']}"))
    return found


def test_existing_answers_and_messages_render_exactly_as_today() -> None:
    answers = _faq_answers()
    assert len(answers) > 100
    catalogue = [
        (f"{key}.{lang}", text) for key, langs in CATALOG.items() for lang, text in langs.items()
    ]
    for name, text in answers + catalogue:
        doc = parse(text)
        assert to_plain(doc) == text, name
        assert problems(text) == [], name
        assert all(isinstance(b, Paragraph) for b in doc.blocks), name
