"""Names of private persons, in English and French, from what the sentence says about them.

Citizens name themselves and their family after a few telling words, often in lower case on SMS:
- after a naming cue ("my name is", "je m'appelle", "mon nom est", "moi c'est", "name:", "signed"),
  the next words up to a function word are the name, whatever their case;
- after a relative ("my son", "ma mère") or a title ("Mr", "Mme"), a capitalised word or a known
  given name (bot/privacy/lexicon/first_names.txt) starts a name;
- after a weaker cue ("this is", "c'est", "ici", "for", "thanks," or a dash at the end), a known
  given name, or a capitalised word followed by another;
- anywhere, a capitalised known given name followed by a capitalised word ("Marie Tremblay here").
Why rules and not a statistical NER: the only offline NER models on PyPI are spaCy's French ones;
measured on the development set they found fewer names than these rules, tagged agencies and
programs as persons, and cost 5 to 20 ms a message (docs/privacy.md).
"""

from __future__ import annotations

import re
import unicodedata
from importlib import resources

from bot.privacy.scan import Candidate


def _lexicon(name: str) -> frozenset[str]:
    """The words of bot/privacy/lexicon/`name` (whitespace-separated; "#" starts a comment line)."""
    text = resources.files("bot.privacy").joinpath(f"lexicon/{name}").read_text("utf-8")
    return frozenset(
        word for line in text.splitlines() if not line.startswith("#") for word in line.split()
    )


_GIVEN = _lexicon("first_names.txt")
_TOKEN = re.compile(r"[^\W\d_](?:[\w'’]|-(?=[^\W\d_]))*\.?|[^\s\w]", re.UNICODE)

_STOP = _lexicon("stop_words.txt")
# Given names that are also everyday words: taken only when capitalised.
_AMBIGUOUS = _lexicon("ambiguous_names.txt")
# Capitalised words that are not names: institutions, programs, places, greetings.
_NOT_NAMES = _lexicon("not_names.txt")

_STRONG = (
    r"my\s+name\s+is|my\s+names|my\s+name['’]s|name\s*[:=]|names?\s+is|full\s+name\s*:?"
    r"|first\s+name\s*:?|last\s+name\s*:?|surname\s*:?|signed\s*:?|sign[ée]\s*:?"
    r"|je\s+m['’]?\s*appel+e|j['’]?\s*m['’]?\s*appel+e|mon\s+nom\s+(?:est|c['’]?est|:)"
    r"|nom\s*[:=]|nom\s+complet\s*:?|pr[ée]nom\s*:?|nom\s+de\s+famille\s*:?|moi\s+c['’]?est"
)
_RELATIVE = (
    r"(?:(?:my|our|mon|ma|notre)\s+(?:late\s+|d[ée]funte?\s+)?(?:son|daughter|wife|husband|mother|mom"
    r"|mum|father|dad|brother|sister|child|kid|grandmother|grandma|grandfather|grandpa|partner"
    r"|spouse|friend|neighbou?r|landlord|uncle|aunt|nephew|niece|cousin|boyfriend|girlfriend"
    r"|fils|fille|mari|femme|conjointe?|m[èe]re|p[èe]re|fr[èe]re|s[œo]e?ur|tante|oncle|neveu"
    r"|ni[èe]ce|cousine?|amie?|grand[\s\-]m[èe]re|grand[\s\-]p[èe]re|chum|blonde|voisine?"
    r"|proprio|propri[ée]taire|enfant|bebe|bébé))|baby|b[ée]b[ée]"
    r"|names?\s+on\s+(?:the\s+|my\s+|le\s+|la\s+)?(?:acc(?:oun)?t|card|file|cheque)"
    r"|au\s+nom\s+de|nom\s+sur\s+(?:le|la)\s+\w+"
)
_TITLE = r"mr|mrs|ms|miss|mister|dr|doctor|mme|mlle|madame|monsieur|docteur|m(?=\.)"
# Someone introducing themselves, or signing off: one capitalised word is enough there.
_SELF = (
    r"this\s+is|it['’]?s|i\s+am|i['’]?m|im|c['’]?est|ici|je\s+suis|moi|thanks|thank\s+you|thx"
    r"|merci|regards|cordialement|cheers|salutations|best|bye|[\-–—]"
)
_WEAK = r"from|de\s+la\s+part\s+de|on\s+behalf\s+of|for|pour|named|nomm[ée]e?|appel[ée]e?|called"
_CUE = re.compile(
    rf"(?i)(?<![\w'’])(?:(?P<strong>{_STRONG})|(?P<relative>{_RELATIVE})|(?P<title>{_TITLE})"
    rf"|(?P<self>{_SELF})|(?P<weak>{_WEAK}))\.?(?=[\s,:]|$)[\s,:]*"
)


def given_names() -> frozenset[str]:
    """The given-name list, lower case, without accents."""
    return _GIVEN


def _plain(word: str) -> str:
    word = word.rstrip(".").lower().replace("’", "'")
    return "".join(c for c in unicodedata.normalize("NFD", word) if not unicodedata.combining(c))


def _is_word(token: str) -> bool:
    return token[0].isalpha()


def _capitalised(token: str) -> bool:
    return token[0].isupper() and _plain(token) not in _NOT_NAMES


def _known(token: str) -> bool:
    plain = _plain(token).split("-")[0]
    if plain not in given_names() or plain in _NOT_NAMES:
        return False
    return token[0].isupper() or plain not in _AMBIGUOUS


def _nameish(token: str) -> bool:
    """Could be part of a name: a word that is not a function word or a known non-name."""
    plain = _plain(token)
    return (
        _is_word(token)
        and not any(ch.isdigit() for ch in token)
        and plain not in _STOP
        and plain not in _NOT_NAMES
        and len(plain) > 1
    )


def _ends_sentence(token: str) -> bool:
    """A word token carrying a full stop that ends a sentence ("Riya."), not an initial ("B.")."""
    return token.endswith(".") and len(token) > 2


def _run(tokens: list[re.Match[str]], first: int, limit: int, rule: str) -> int:
    """How many tokens from `first` make the name, by `rule`; 0 when none."""
    count = 0
    for index in range(first, min(first + limit, len(tokens))):
        token = tokens[index].group()
        if count and "\n" in text_between(tokens, index):
            break  # a name does not run over a line end
        if count and _ends_sentence(tokens[index - 1].group()):
            break  # nor over a sentence end: "this is Riya. Returns are due"
        initial = count > 0 and re.fullmatch(r"[A-Z]\.?", token) is not None
        if (
            rule == "any"
            and (_nameish(token) or initial)
            or rule == "capital"
            and (
                (_capitalised(token) and _nameish(token))
                or initial
                or (count == 0 and _known(token))
            )
        ):
            count += 1
        else:
            break
    return count


def text_between(tokens: list[re.Match[str]], index: int) -> str:
    """What separates token `index` from the one before it."""
    return tokens[index].string[tokens[index - 1].end() : tokens[index].start()]


def _alone(tokens: list[re.Match[str]], index: int) -> bool:
    """Whether token `index` is a name-like word followed by a mark, the end, or "here"."""
    if not _nameish(tokens[index].group()):
        return False
    if index + 1 == len(tokens) or _ends_sentence(tokens[index].group()):
        return True  # the end, or the end of a sentence: "hi, this is Riya. Returns are due"
    after = tokens[index + 1].group()
    return not after[0].isalnum() or after.lower() in ("here", "ici", "calling", "from", "de")


def _signature(text: str, tokens: list[re.Match[str]]) -> list[Candidate]:
    """Capitalised words that end the message after a sentence end: "... account. Miguel
    Ferreira"."""
    words = 0
    while words < 3 and words < len(tokens) and _is_word(tokens[-1 - words].group()):
        words += 1
        if words < len(tokens) and tokens[-1 - words].group().endswith("."):
            break  # "... my account. Miguel Ferreira": the sentence before ends here
    if not words or words == len(tokens):
        return []
    first = len(tokens) - words
    before = text[: tokens[first].start()].rstrip()
    if not before or before[-1] not in ".!?\n":
        return []
    names = tokens[first:]
    if all(_capitalised(t.group()) and _nameish(t.group()) for t in names) and (
        words >= 2 or _known(names[0].group())
    ):
        return [Candidate("name", names[0].start(), names[-1].end(), (3,))]
    return []


def name_candidates(text: str) -> list[Candidate]:
    """Spans of text that name a private person."""
    tokens = list(_TOKEN.finditer(text))
    starts = {token.start(): index for index, token in enumerate(tokens)}
    found: list[Candidate] = []

    def take(first: int, count: int, preference: int) -> None:
        if count:
            last = tokens[first + count - 1].group()
            end = tokens[first + count - 1].end()
            if _ends_sentence(last):
                end -= 1  # the full stop after the name is not part of it
            found.append(Candidate("name", tokens[first].start(), end, (preference,)))

    for cue in _CUE.finditer(text):
        first = starts.get(cue.end())
        if first is None:
            continue
        if cue["strong"]:
            take(first, _run(tokens, first, 3, "any"), 0)
        elif cue["relative"] or cue["title"]:
            known = _known(tokens[first].group())
            # "mr tremblay" on SMS, but "my doctor reported me": only short titles take any case
            short = bool(cue["title"]) and len(cue["title"].rstrip(".")) <= 4
            rule = "any" if known or short else "capital"
            count = _run(tokens, first, 3, rule)
            if short or known or _capitalised(tokens[first].group()):
                take(first, count, 1)
        elif _known(tokens[first].group()):
            take(first, _run(tokens, first, 3, "capital"), 2)
        elif cue["self"] and _capitalised(tokens[first].group()) and _alone(tokens, first):
            take(first, 1, 2)
        elif _capitalised(tokens[first].group()) and _run(tokens, first, 3, "capital") >= 2:
            take(first, _run(tokens, first, 3, "capital"), 2)
    found += _signature(text, tokens)
    for index, token in enumerate(tokens):
        word = token.group()
        if word[0].isupper() and _known(word):
            count = _run(tokens, index, 3, "capital")
            after = tokens[index + 1].group().lower() if index + 1 < len(tokens) else ""
            if count >= 2 or after in ("here", "ici"):
                take(index, count, 3)
    return found
