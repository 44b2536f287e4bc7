"""Microsoft Presidio as the frame of the redactor: its analyzer runs our recognizers, its
anonymizer writes the typed placeholders.

Each of the project's recognizers (bot/privacy/recognizers.py, documents.py, birthdates.py,
names.py, addresses.py) is registered as a Presidio `EntityRecognizer`, so an agency can add its
own (a Presidio `PatternRecognizer` for a local file number, say) with `registry().add_recognizer`.
The NLP engine is spaCy's blank tokenizer: no statistical model is loaded, nothing is downloaded,
and a message costs well under a millisecond of Presidio's own work (bench/RESULTS.md).
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from types import ModuleType
from typing import Any, cast

from bot.privacy.addresses import address_candidates
from bot.privacy.birthdates import dob_candidates
from bot.privacy.documents import (
    bank_account_candidates,
    health_card_candidates,
    licence_candidates,
    passport_candidates,
)
from bot.privacy.names import name_candidates
from bot.privacy.recognizers import (
    email_candidates,
    ip_candidates,
    number_candidates,
    phone_candidates,
)
from bot.privacy.scan import Candidate

Propose = Callable[[str], list[Candidate]]

# Recognizer name -> (the kinds it may report, the function that proposes them).
RECOGNIZERS: dict[str, tuple[tuple[str, ...], Propose]] = {
    "contacts.email": (("email",), email_candidates),
    "contacts.phone": (("phone",), phone_candidates),
    "contacts.ip": (("ip",), ip_candidates),
    "numbers.card_sin_ssn": (("card", "sin", "ssn"), number_candidates),
    "documents.health_card": (("health_card",), health_card_candidates),
    "documents.passport": (("passport",), passport_candidates),
    "documents.licence": (("licence",), licence_candidates),
    "documents.bank_account": (("bank_account",), bank_account_candidates),
    "dates.dob": (("dob",), dob_candidates),
    "people.name": (("name",), name_candidates),
    "places.address": (("address",), address_candidates),
}
LANGUAGE = "en"  # Presidio wants one; every recognizer reads English and French alike

_lock = threading.RLock()
_engines: dict[str, Any] = {}
# Set while this thread is inside Presidio: building it, or analysing. Presidio and spaCy log as
# they work, the log redaction filter redacts those records, and that inner call must not
# re-enter Presidio: it calls the recognizers directly (same candidates, no frame).
_inside = threading.local()


# spaCy (under Presidio) loads thinc, which imports torch and transformers whenever they are
# installed: 330 MB and seconds of import for nothing, since no model runs here. Measured in a
# fresh interpreter: Presidio with them 430 MB, without 100 MB (bench/RESULTS.md section 10).
_NOT_FOR_PRESIDIO = ("torch", "transformers", "tensorflow", "jax", "cupy")


def _import_presidio() -> None:
    """Import Presidio with the deep-learning frameworks hidden, unless the process already
    holds them (then hiding saves nothing)."""
    hidden = [name for name in _NOT_FOR_PRESIDIO if name not in sys.modules]
    for name in hidden:
        # None in sys.modules makes "import x" raise ImportError (the import system's rule).
        sys.modules[name] = cast(ModuleType, None)
    try:
        import presidio_analyzer  # noqa: F401
        import presidio_anonymizer  # noqa: F401
    finally:
        for name in hidden:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]


def _candidate_recognizer(name: str, kinds: Sequence[str], propose: Propose) -> Any:
    from presidio_analyzer import EntityRecognizer, RecognizerResult

    class CandidateRecognizer(EntityRecognizer):
        """One of our candidate functions, seen by Presidio as a recognizer."""

        def load(self) -> None:
            """Nothing to load: the recognizer is rules and word lists."""

        def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[Any]:
            return [
                RecognizerResult(
                    c.kind,
                    c.start,
                    c.end,
                    1.0,
                    recognition_metadata={
                        "recognizer_name": name,
                        "preference": c.preference,
                    },
                )
                for c in propose(text)
                if c.kind in entities
            ]

    return CandidateRecognizer(
        supported_entities=list(kinds), name=name, supported_language=LANGUAGE
    )


def _build() -> tuple[Any, Any]:
    _import_presidio()
    import spacy
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import SpacyNlpEngine
    from presidio_anonymizer import AnonymizerEngine

    for name in ("presidio-analyzer", "presidio-anonymizer"):
        logging.getLogger(name).setLevel(logging.WARNING)  # its debug lines quote the text
    # spaCy's rule-based tokenizer and no model: the recognizers need no NER or lemmas, and
    # `load()` would try to download a model. (Presidio types `nlp` as None until it loads.)
    nlp_engine = SpacyNlpEngine(models=[{"lang_code": LANGUAGE, "model_name": "blank"}])
    nlp_engine.__dict__["nlp"] = {LANGUAGE: spacy.blank(LANGUAGE)}
    registry = RecognizerRegistry(supported_languages=[LANGUAGE])
    for name, (kinds, propose) in RECOGNIZERS.items():
        registry.add_recognizer(_candidate_recognizer(name, kinds, propose))
    analyzer = AnalyzerEngine(
        nlp_engine=nlp_engine, registry=registry, supported_languages=[LANGUAGE]
    )
    return analyzer, AnonymizerEngine()


def engines() -> tuple[Any, Any]:
    """The analyzer and the anonymizer, built once per process on first use."""
    with _lock:
        if not _engines:
            _engines["analyzer"], _engines["anonymizer"] = _build()
    return _engines["analyzer"], _engines["anonymizer"]


@contextmanager
def _presidio() -> Iterator[tuple[Any, Any] | None]:
    """The engines, or None when this thread is already inside Presidio."""
    if getattr(_inside, "active", False):
        yield None
        return
    _inside.active = True
    try:
        yield engines()
    finally:
        _inside.active = False


def analyze(text: str) -> list[Candidate]:
    """Every candidate the registered recognizers propose for `text`, overlaps included."""
    with _presidio() as built:
        if built is None:
            return [c for _, propose in RECOGNIZERS.values() for c in propose(text)]
        results = built[0].analyze(text, language=LANGUAGE)
    return [
        Candidate(
            r.entity_type,
            r.start,
            r.end,
            tuple(r.recognition_metadata.get("preference", ())),
        )
        for r in results
    ]


def replace(text: str, findings: Sequence[tuple[str, int, int]]) -> str:
    """`text` with each (kind, start, end) replaced by "[kind]", by Presidio's anonymizer."""
    from presidio_anonymizer.entities import OperatorConfig, RecognizerResult

    results = [RecognizerResult(kind, start, end, 1.0) for kind, start, end in findings]
    operators = {
        kind: OperatorConfig("replace", {"new_value": f"[{kind}]"})
        for kind in {kind for kind, _, _ in findings}
    }
    with _presidio() as built:
        if built is None:
            for kind, start, end in sorted(findings, key=lambda f: -f[1]):
                text = f"{text[:start]}[{kind}]{text[end:]}"
            return text
        return str(
            built[1].anonymize(text=text, analyzer_results=results, operators=operators).text
        )
