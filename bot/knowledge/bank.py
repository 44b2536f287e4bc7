"""The FAQ bank: every agency file under data/faqs, loaded and validated, with a content hash."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.knowledge.faq import Agency, Faq, KnowledgeError
from bot.knowledge.records import check_unique, faq_from_record


class _LineLoader(yaml.SafeLoader):
    """A safe YAML loader that remembers the line of every mapping under the key `__line__`."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        mapping = super().construct_mapping(node, deep=deep)
        mapping["__line__"] = node.start_mark.line + 1
        return mapping


# Dates stay text, so that an impossible date ("2026-02-31") is reported as such with its line.
_LineLoader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _agency(raw: Any, file: str) -> Agency:
    if not isinstance(raw, dict) or not raw.get("id"):
        raise KnowledgeError(file, 1, "missing agency.id")
    name = raw.get("name") or {}
    if isinstance(name, str):
        name = {"en": name}
    contact = raw.get("contact") or {}
    hours = contact.get("hours") or {}
    return Agency(
        id=str(raw["id"]),
        name={k: str(v) for k, v in name.items() if k != "__line__"},
        phone=str(contact.get("phone") or ""),
        url=str(contact.get("url") or ""),
        hours={k: str(v) for k, v in hours.items() if k != "__line__"}
        if isinstance(hours, dict)
        else {},
        demo=bool(raw.get("demo", False)),
    )


def read_agency_file(path: Path) -> tuple[Agency, list[tuple[Faq, str, int | None]]]:
    """Parse one agency YAML file into its agency and (faq, file, line) triples."""
    file = str(path)
    try:
        doc = yaml.load(path.read_text(encoding="utf-8"), Loader=_LineLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise KnowledgeError(file, mark.line + 1 if mark else None, f"not valid YAML: {exc}")
    except UnicodeDecodeError:
        raise KnowledgeError(file, None, "not UTF-8 text")
    if not isinstance(doc, dict):
        raise KnowledgeError(file, 1, "expected a mapping with 'agency' and 'faqs'")
    agency = _agency(doc.get("agency"), file)
    raw_faqs = doc.get("faqs")
    if not isinstance(raw_faqs, list):
        raise KnowledgeError(file, doc.get("__line__"), "missing faqs list")
    triples = []
    for raw in raw_faqs:
        line = raw.get("__line__") if isinstance(raw, dict) else None
        triples.append((faq_from_record(raw, file, line, agency=agency.id), file, line))
    return agency, triples


@dataclass(frozen=True)
class FaqBank:
    """All FAQs of all agencies, validated: ids unique, languages known, answers present."""

    agencies: dict[str, Agency]
    faqs: tuple[Faq, ...]

    @classmethod
    def load(cls, directory: Path) -> FaqBank:
        """Load and validate every `*.yml` file of `directory`; raise KnowledgeError on the
        first problem."""
        agencies: dict[str, Agency] = {}
        triples: list[tuple[Faq, str, int | None]] = []
        for path in sorted(directory.glob("*.yml")):
            agency, found = read_agency_file(path)
            if agency.id in agencies:
                raise KnowledgeError(str(path), 1, f"agency {agency.id} is defined twice")
            agencies[agency.id] = agency
            triples.extend(found)
        check_unique(triples)
        return cls(agencies, tuple(faq for faq, _, _ in triples))

    @classmethod
    def from_faqs(cls, faqs: list[Faq]) -> FaqBank:
        """A bank over bare FAQs (evaluation files), with agencies named after their ids."""
        agencies = {f.agency: Agency(id=f.agency, name={"en": f.agency}) for f in faqs}
        return cls(agencies, tuple(faqs))

    def by_id(self) -> dict[str, Faq]:
        """FAQs keyed by id."""
        return {faq.id: faq for faq in self.faqs}

    def content_hash(self) -> str:
        """A hash of everything retrieval depends on, so the index is rebuilt when it changes."""
        digest = hashlib.sha256()
        for faq in sorted(self.faqs, key=lambda f: f.id):
            for part in (faq.id, faq.language, faq.question, *faq.alternatives, faq.answer):
                digest.update(part.encode("utf-8") + b"\x00")
        return digest.hexdigest()[:16]
