"""Plain-text replies that fit: SMS segment counting (GSM-7 or UCS-2), numbered choices,
and shortening.

An SMS is GSM-7 (GSM 03.38) when every character is in the basic table or its extension table
(extension characters take two septets); otherwise the whole message is UCS-2. One segment holds
160 septets or 70 UTF-16 units; a multipart message holds 153 or 67 per segment (the rest is the
concatenation header), and a two-unit character (escape + char, or a surrogate pair) is never split.
Shortening cuts the body, never the trailing "Source: URL" line and never inside a URL.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence

# GSM 03.38 basic table, in code order, without ESC (0x1B). 0x09 is the capital Ç: lowercase ç,
# ê, â, ô, î, û, ë, ï and œ are NOT here, so most French text with them goes out as UCS-2.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Reached through ESC, so each costs two septets.
GSM7_EXTENSION = frozenset("\f^{}\\[]~|€")

# Typography that would force UCS-2 (capacity 153 -> 67 per segment) for no visible gain.
_PLAIN = str.maketrans(
    {
        "\u2019": "'",
        "\u2018": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u00a0": " ",
        "\u202f": " ",
        "\u2013": "-",
        "\u2014": "-",
        "\u2022": "-",  # the answer format's bullets (connectors/rich_text.py)
    }
)
_SOURCE_LINE = re.compile(r"^sources?\s*:\s*https?://\S+$", re.IGNORECASE)
_URL = re.compile(r"https?://\S+")
# A handful of frequent words per language: enough to pick the hint's language for an FAQ answer.
_FRENCH_HINTS = frozenset(
    "le la les des du un une est et pour vous votre vos que qui pas sur avec au aux".split()  # noqa: SIM905
)
_ENGLISH_HINTS = frozenset(
    "the a an is and for you your to of that which not on with at in are can".split()  # noqa: SIM905
)


def is_gsm7(text: str) -> bool:
    """Whether `text` can be sent in the GSM 7-bit alphabet."""
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)


def _pack(units: list[int], single: int, multi: int) -> int:
    if sum(units) <= single:
        return 1
    count, used = 1, 0
    for unit in units:
        if used + unit > multi:  # a two-unit character starts the next segment whole
            count, used = count + 1, 0
        used += unit
    return count


def segments(text: str) -> int:
    """How many SMS segments `text` takes (an empty message still takes one)."""
    if is_gsm7(text):
        return _pack([2 if ch in GSM7_EXTENSION else 1 for ch in text], 160, 153)
    return _pack([len(ch.encode("utf-16-le")) // 2 for ch in text], 70, 67)


def guess_language(text: str) -> str:
    """French ("fr") or English ("en") by a vote of common words, for when the caller
    does not say."""
    words = re.findall(r"[a-zàâçéèêëîïôûùüÿœ]+", text.lower())
    french = sum(w in _FRENCH_HINTS for w in words)
    english = sum(w in _ENGLISH_HINTS for w in words)
    return "fr" if french > english else "en"


def choice_lines(buttons: Sequence[Mapping[str, str]], language: str = "en") -> str:
    """Buttons as "1) title" lines and a hint: "Reply 1, 2 or 3" / "Répondez 1, 2 ou 3"."""
    if not buttons:
        return ""
    numbers = [str(i) for i in range(1, len(buttons) + 1)]
    french = language.lower().startswith("fr")
    joined = numbers[0]
    if len(numbers) > 1:
        joined = f"{', '.join(numbers[:-1])} {'ou' if french else 'or'} {numbers[-1]}"
    lines = [f"{n}) {b.get('title', '').strip()}" for n, b in zip(numbers, buttons)]
    return "\n".join([*lines, f"{'Répondez' if french else 'Reply'} {joined}"])


def split_source(text: str) -> tuple[str, str]:
    """The body and its trailing "Source: URL" line ("" when there is none)."""
    body, _, last = text.strip().rpartition("\n")
    if _SOURCE_LINE.match(last.strip()):
        return body.rstrip(), last.strip()
    return text.strip(), ""


def _join(*parts: str, sep: str = "\n") -> str:
    return sep.join(p for p in parts if p)


def _attach(body: str, tail: str) -> str:
    """Body, then the tail: right under it for a source line, after a blank line for choices."""
    source_first = _SOURCE_LINE.match(tail.split("\n", 1)[0])
    return _join(body, tail, sep="\n" if source_first else "\n\n")


def _with_ellipsis(head: str, ellipsis: str, sentence: bool) -> str:
    head = head.rstrip()
    if sentence or _URL.search(head.rsplit(None, 1)[-1] if head else ""):
        return f"{head} {ellipsis}"  # a space keeps the ellipsis out of a URL that ends the head
    return head.rstrip(",;:-") + ellipsis


def _cuts(body: str) -> tuple[list[int], list[int]]:
    """Candidate cut positions: after sentences, and between words (both outside URLs)."""
    sentences, words = [], []
    for i in range(1, len(body)):
        if body[i].isspace() and not body[i - 1].isspace():
            words.append(i)
            if body[i - 1] in ".!?…":
                sentences.append(i)
    return sentences, words


def _best(positions: list[int], ok: Callable[[int], bool]) -> int | None:
    """The largest position that is `ok` (`ok` is monotone: a shorter body never fits worse)."""
    lo, hi, best = 0, len(positions) - 1, None
    while lo <= hi:
        mid = (lo + hi) // 2
        if ok(positions[mid]):
            best, lo = positions[mid], mid + 1
        else:
            hi = mid - 1
    return best


def _hard_cut(text: str, fits: Callable[[str], bool], ellipsis: str) -> str:
    """Last resort: cut anywhere that fits, but back off to before a URL rather than split it."""
    every = list(range(len(text) + 1))
    end = _best(every, lambda i: fits(_with_ellipsis(text[:i], ellipsis, False))) or 0
    for url in _URL.finditer(text):
        if url.start() < end < url.end():
            end = url.start()
    return _with_ellipsis(text[:end], ellipsis, False)


def shorten_to_fit(body: str, tail: str, fits: Callable[[str], bool], ellipsis: str = "…") -> str:
    """`body` then `tail` (kept whole), the body cut at a sentence, else a word, with
    an ellipsis."""
    whole = _attach(body, tail)
    if fits(whole):
        return whole
    if not fits(tail):
        return _hard_cut(whole, fits, ellipsis)

    def shown(end: int, sentence: bool) -> str:
        return _attach(_with_ellipsis(body[:end], ellipsis, sentence), tail)

    sentences, words = _cuts(body)
    by_sentence = _best(sentences, lambda i: fits(shown(i, True)))
    by_word = _best(words, lambda i: fits(shown(i, False)))
    # A sentence end reads better, unless it throws away more than half of the room a word
    # cut keeps.
    if by_sentence is not None and (by_word is None or by_sentence * 2 >= by_word):
        return shown(by_sentence, True)
    if by_word is not None:
        return shown(by_word, False)
    return _attach(_hard_cut(body, lambda s: fits(_attach(s, tail)), ellipsis), tail)


def render_text(
    text: str,
    buttons: Sequence[Mapping[str, str]] = (),
    fits: Callable[[str], bool] = lambda s: len(s) <= 4096,
    *,
    link: str | None = None,
    language: str | None = None,
    ellipsis: str = "…",
) -> str:
    """Text with numbered choices and the source line, shortened until `fits` accepts it."""
    body, source = split_source(text)
    language = language or guess_language(text)
    if link and not source and link not in text:
        source = f"Source{' :' if language.startswith('fr') else ':'} {link}"
    tail = _join(source, choice_lines(buttons, language), sep="\n\n")
    return shorten_to_fit(body, tail, fits, ellipsis)


def fit_chars(text: str, max_chars: int, *, link: str | None = None) -> str:
    """`text` shortened to `max_chars` characters, keeping its source line (Messenger, Telegram)."""
    return render_text(text, (), lambda s: len(s) <= max_chars, link=link)


def render_sms(
    text: str,
    buttons: Sequence[Mapping[str, str]] = (),
    max_segments: int = 3,
    link: str | None = None,
    language: str | None = None,
) -> str:
    """An SMS of at most `max_segments` segments: numbered choices, source line kept,
    body shortened."""
    text = text.translate(_PLAIN)
    plain_buttons = [{**b, "title": b.get("title", "").translate(_PLAIN)} for b in buttons]
    # "…" is not GSM-7: using it would turn a GSM-7 message into UCS-2 and halve what fits.
    ellipsis = "..." if is_gsm7(text + "".join(b["title"] for b in plain_buttons)) else "…"
    return render_text(
        text,
        plain_buttons,
        lambda s: segments(s) <= max_segments,
        link=link,
        language=language,
        ellipsis=ellipsis,
    )
