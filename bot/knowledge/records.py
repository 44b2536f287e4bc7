"""Turning raw records (from YAML, CSV or JSONL) into validated FAQs, with file and line in
every error."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from typing import Any

from bot.knowledge.faq import LANGUAGES, Faq, KnowledgeError

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$")


def _text(raw: Mapping[str, Any], key: str, file: str, line: int | None, required: bool) -> str:
    value = raw.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise KnowledgeError(file, line, f"missing {key}")
        return ""
    if not isinstance(value, (str, int, float)):
        raise KnowledgeError(file, line, f"{key} must be text")
    return str(value).strip()


def _list(value: Any, file: str, line: int | None, key: str) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        value = [part for part in value.split("|")]
    if not isinstance(value, list) or not all(isinstance(v, (str, int)) for v in value):
        raise KnowledgeError(file, line, f"{key} must be a list of text")
    return tuple(str(v).strip() for v in value if str(v).strip())


def _date(value: Any, file: str, line: int | None) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise KnowledgeError(file, line, f"bad date {value!r} for last_reviewed (use YYYY-MM-DD)")


def faq_from_record(raw: Mapping[str, Any], file: str, line: int | None, agency: str = "") -> Faq:
    """Validate one raw record and build its FAQ; raise KnowledgeError naming the problem."""
    if not isinstance(raw, Mapping):
        raise KnowledgeError(file, line, "an FAQ must be a mapping of fields")
    faq_id = _text(raw, "id", file, line, required=True)
    if not _ID.match(faq_id):
        raise KnowledgeError(file, line, f"bad id {faq_id!r} (letters, digits, - _ . : only)")
    language = _text(raw, "language", file, line, required=True).lower()
    if language not in LANGUAGES:
        raise KnowledgeError(
            file,
            line,
            f"unknown language {language!r} in {faq_id} (expected {', '.join(LANGUAGES)})",
        )
    question = _text(raw, "question", file, line, required=True)
    answer = _text(raw, "answer", file, line, required=False)
    if not answer:
        raise KnowledgeError(file, line, f"missing answer in {faq_id}")
    agency_id = _text(raw, "agency", file, line, required=False) or agency
    if not agency_id:
        raise KnowledgeError(file, line, f"missing agency in {faq_id}")
    source_url = _text(raw, "source_url", file, line, required=False) or _text(
        raw, "url", file, line, required=False
    )
    if source_url and not source_url.startswith(("https://", "http://")):
        raise KnowledgeError(file, line, f"source_url of {faq_id} must start with https://")
    return Faq(
        id=faq_id,
        agency=agency_id,
        language=language,
        question=question,
        answer=answer,
        alternatives=_list(raw.get("alternatives"), file, line, "alternatives"),
        source_url=source_url or None,
        last_reviewed=_date(raw.get("last_reviewed"), file, line),
        tags=_list(raw.get("tags"), file, line, "tags"),
        parallel_id=_text(raw, "parallel_id", file, line, required=False) or None,
    )


def check_unique(
    faqs: Iterable[tuple[Faq, str, int | None]], seen: dict[str, str] | None = None
) -> None:
    """Raise KnowledgeError on the first FAQ id used twice (across files too)."""
    seen = dict(seen or {})
    for faq, file, line in faqs:
        if faq.id in seen:
            raise KnowledgeError(file, line, f"duplicate id {faq.id} (also in {seen[faq.id]})")
        seen[faq.id] = file
