"""FAQ files: validation names the file, line and problem; imports are all-or-nothing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.knowledge.bank import FaqBank
from bot.knowledge.faq import KnowledgeError
from bot.knowledge.importer import import_faqs, read_faq_file
from bot.settings import ROOT

HEADER = (
    "agency:\n  id: demo\n  name: {en: Demo, fr: Démo}\n  contact: {phone: '555-0100'}\nfaqs:\n"
)
GOOD = """  - id: demo-1-en
    language: en
    question: How do I renew?
    answer: Online.
    last_reviewed: 2026-01-31
"""


def write(tmp_path: Path, body: str, name: str = "demo.yml") -> Path:
    folder = tmp_path / "faqs"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(HEADER + body, encoding="utf-8")
    return folder


def test_the_shipped_demo_knowledge_base_is_valid_and_bilingual() -> None:
    bank = FaqBank.load(ROOT / "data" / "faqs")
    assert len(bank.faqs) >= 120 and len(bank.agencies) >= 4
    assert all(a.demo for a in bank.agencies.values())
    pairs: dict[str, set[str]] = {}
    for faq in bank.faqs:
        pairs.setdefault(faq.parallel_id or faq.id, set()).add(faq.language)
    assert sum(1 for langs in pairs.values() if langs == {"en", "fr"}) >= 60


@pytest.mark.parametrize(
    "body, line, problem",
    [
        (GOOD + GOOD, 11, "duplicate id demo-1-en"),
        ("  - id: x\n    language: en\n    question: Q?\n", 6, "missing answer in x"),
        (
            "  - id: x\n    language: de\n    question: Q?\n    answer: A\n",
            6,
            "unknown language 'de'",
        ),
        (
            (
                "  - id: x\n    language: en\n    question: Q?\n    answer: A\n"
                "    last_reviewed: 2026-02-31\n"
            ),
            6,
            "bad date",
        ),
        ("  - id: x\n    language: en\n    answer: A\n", 6, "missing question"),
    ],
)
def test_validation_names_file_line_and_problem(
    tmp_path: Path, body: str, line: int, problem: str
) -> None:
    folder = write(tmp_path, body)
    with pytest.raises(KnowledgeError) as caught:
        FaqBank.load(folder)
    assert caught.value.file.endswith("demo.yml")
    assert caught.value.line == line
    assert problem in caught.value.problem


def test_a_duplicate_id_across_files_is_refused(tmp_path: Path) -> None:
    folder = write(tmp_path, GOOD)
    (folder / "other.yml").write_text(
        HEADER.replace("id: demo", "id: other") + GOOD, encoding="utf-8"
    )
    with pytest.raises(KnowledgeError, match="duplicate id demo-1-en"):
        FaqBank.load(folder)


def test_cli_validate_reports_errors_with_exit_code(tmp_path: Path) -> None:
    folder = write(tmp_path, GOOD + GOOD)
    result = CliRunner().invoke(app, ["kb", "validate", "--dir", str(folder)])
    assert result.exit_code == 1
    assert "demo.yml:11: duplicate id demo-1-en" in result.output
    ok = CliRunner().invoke(app, ["kb", "validate", "--dir", str(write(tmp_path, GOOD))])
    assert ok.exit_code == 0 and "1 FAQs" in ok.output


def test_csv_import_adds_faqs_to_the_agency_file(tmp_path: Path) -> None:
    folder = write(tmp_path, GOOD)
    csv_file = tmp_path / "new.csv"
    csv_file.write_text(
        "id,agency,language,question,alternatives,answer,source_url,last_reviewed,tags,parallel_id\n"
        "demo-2-en,demo,en,Where is the office?,office address|where are you,At 1 Main St.,"
        "https://demo.example/office,2026-03-01,office,demo-2\n"
        "demo-2-fr,demo,fr,Où est le bureau?,,Au 1 rue Principale.,,2026-03-01,,demo-2\n",
        encoding="utf-8",
    )
    assert import_faqs(csv_file, folder) == {"demo": 2}
    bank = FaqBank.load(folder)
    imported = bank.by_id()["demo-2-en"]
    assert imported.alternatives == ("office address", "where are you")
    assert imported.parallel_id == "demo-2" and str(imported.last_reviewed) == "2026-03-01"


@pytest.mark.parametrize(
    "rows, line, problem",
    [
        ("demo-9,demo,en,Q?,\ndemo-10,demo,en,Q2?,\n", 2, "missing answer"),
        ("demo-9,demo,xx,Q?,A\n", 2, "unknown language"),
        ("demo-1-en,demo,en,Q?,A\n", None, "duplicate id demo-1-en"),
    ],
)
def test_a_bad_csv_imports_nothing(
    tmp_path: Path, rows: str, line: int | None, problem: str
) -> None:
    folder = write(tmp_path, GOOD)
    before = {p.name: p.read_text() for p in folder.iterdir()}
    csv_file = tmp_path / "bad.csv"
    csv_file.write_text("id,agency,language,question,answer\n" + rows, encoding="utf-8")
    with pytest.raises(KnowledgeError) as caught:
        import_faqs(csv_file, folder)
    assert problem in caught.value.problem and caught.value.file.endswith("bad.csv")
    if line:
        assert caught.value.line == line
    assert {p.name: p.read_text() for p in folder.iterdir()} == before


def test_jsonl_in_the_evaluation_format_is_read_with_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "faqs.jsonl"
    records = [
        {
            "id": "a-1",
            "question": "Q?",
            "answer": "A.",
            "source": "Some Agency",
            "language": "en",
            "url": None,
        },
        {"id": "a-2", "question": "Q2?", "answer": "", "source": "Some Agency", "language": "en"},
    ]
    path.write_text("\n".join(json.dumps(r) for r in records), encoding="utf-8")
    with pytest.raises(KnowledgeError) as caught:
        read_faq_file(path)
    assert caught.value.line == 2 and "missing answer in a-2" in caught.value.problem
    path.write_text(json.dumps(records[0]) + "\n{broken\n", encoding="utf-8")
    with pytest.raises(KnowledgeError, match=r"faqs.jsonl:2: not valid JSON"):
        read_faq_file(path)


def test_cli_import_of_eval_jsonl_creates_an_agency_file(tmp_path: Path) -> None:
    folder = write(tmp_path, GOOD)
    source = tmp_path / "few.jsonl"
    # The format of ../shared/eval: `source` names the agency, `url` may be null.
    records = [
        {
            "id": f"msssfr-00{i}",
            "question": f"Question {i}?",
            "answer": f"Réponse {i}.",
            "language": "fr",
            "source": "Ministère de la Santé (MSSS)",
            "url": None,
            "category": "Écoles",
            "parallel_id": f"p{i}",
        }
        for i in range(1, 4)
    ]
    source.write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in records), encoding="utf-8"
    )
    result = CliRunner().invoke(app, ["kb", "import", str(source), "--dir", str(folder)])
    assert result.exit_code == 0, result.output
    bank = FaqBank.load(folder)
    assert len(bank.faqs) == 4 and len(bank.agencies) == 2
    shutil.rmtree(folder)
