"""Reading FAQs from CSV and JSONL files, and importing them into the bank all-or-nothing."""

from __future__ import annotations

import csv
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

import yaml

from bot.knowledge.bank import FaqBank, read_agency_file
from bot.knowledge.faq import Faq, KnowledgeError
from bot.knowledge.records import check_unique, faq_from_record


def agency_slug(name: str) -> str:
    """A file-safe agency id made from an agency's name."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60] or "imported"


def _jsonl_records(path: Path) -> list[tuple[dict[str, Any], int]]:
    records = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise KnowledgeError(str(path), number, f"not valid JSON: {exc.msg}")
        if not isinstance(raw, dict):
            raise KnowledgeError(str(path), number, "expected a JSON object")
        if "agency" not in raw and raw.get("source"):
            raw["agency"] = agency_slug(str(raw["source"]))
        records.append((raw, number))
    return records


def _csv_records(path: Path) -> list[tuple[dict[str, Any], int]]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = {"id", "language", "question", "answer"} - set(reader.fieldnames or [])
        if missing:
            raise KnowledgeError(str(path), 1, f"missing column(s): {', '.join(sorted(missing))}")
        # Line numbers count the header as line 1, as a spreadsheet shows them.
        return [(dict(row), reader.line_num) for row in reader]


def read_faq_file(path: Path, agency: str = "") -> list[Faq]:
    """Read and validate every FAQ of a CSV or JSONL file; raise KnowledgeError on the
    first problem."""
    if not path.is_file():
        raise KnowledgeError(str(path), None, "no such file")
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            records = _csv_records(path)
        elif suffix in (".jsonl", ".ndjson"):
            records = _jsonl_records(path)
        else:
            raise KnowledgeError(str(path), None, "unsupported format (use .csv or .jsonl)")
    except UnicodeDecodeError:
        raise KnowledgeError(str(path), None, "not UTF-8 text")
    triples = [
        (faq_from_record(raw, str(path), line, agency), str(path), line) for raw, line in records
    ]
    if not triples:
        raise KnowledgeError(str(path), None, "no FAQs in file")
    check_unique(triples)
    return [faq for faq, _, _ in triples]


def faq_to_yaml(faq: Faq) -> dict[str, Any]:
    doc: dict[str, Any] = {"id": faq.id}
    if faq.parallel_id:
        doc["parallel_id"] = faq.parallel_id
    doc.update(language=faq.language, question=faq.question)
    if faq.alternatives:
        doc["alternatives"] = list(faq.alternatives)
    doc["answer"] = faq.answer
    if faq.source_url:
        doc["source_url"] = faq.source_url
    if faq.last_reviewed:
        doc["last_reviewed"] = faq.last_reviewed.isoformat()
    if faq.tags:
        doc["tags"] = list(faq.tags)
    return doc


def import_faqs(path: Path, faq_dir: Path, agency: str = "") -> dict[str, int]:
    """Validate `path` against the bank, then add its FAQs to the agency files; all or nothing."""
    bank = FaqBank.load(faq_dir)
    new = read_faq_file(path, agency)
    existing = {faq.id: "the knowledge base" for faq in bank.faqs}
    check_unique([(faq, str(path), None) for faq in new], seen=existing)
    by_agency: dict[str, list[Faq]] = {}
    for faq in new:
        by_agency.setdefault(faq.agency, []).append(faq)
    staged: list[tuple[Path, str]] = []
    for agency_id, faqs in by_agency.items():
        target = faq_dir / f"{agency_slug(agency_id)}.yml"
        if target.exists():
            doc = yaml.safe_load(target.read_text(encoding="utf-8"))
            read_agency_file(target)  # fails loudly if the existing file is already broken
        else:
            doc = {"agency": {"id": agency_id, "name": {"en": agency_id}}, "faqs": []}
        doc["faqs"].extend(faq_to_yaml(faq) for faq in faqs)
        staged.append((target, yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=100)))
    # Write every file to a temporary sibling first, then rename: a failure leaves
    # nothing half-written.
    temps = []
    try:
        for target, text in staged:
            fd, tmp = tempfile.mkstemp(dir=faq_dir, suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            temps.append((tmp, target))
    except OSError:
        for tmp, _ in temps:
            os.unlink(tmp)
        raise
    for tmp, target in temps:
        os.replace(tmp, target)
    return {agency_id: len(faqs) for agency_id, faqs in by_agency.items()}
