"""Personal-data redaction: each kind found and left alone where it should be, overlaps,
idempotence, a labelled set."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from bot.privacy.redact import Finding, find, luhn_ok, phone_numbers, redact, score

LABELLED = Path(__file__).resolve().parents[1] / "fixtures" / "redaction" / "labelled.jsonl"


def kinds_and_values(text: str) -> list[tuple[str, str]]:
    return [(f.kind, f.value) for f in find(text)]


@pytest.mark.parametrize(
    "digits, ok",
    [
        ("4111111111111111", True),
        ("4111 1111 1111 1111", True),
        ("4111-1111-1111-1112", False),
        ("130692544", True),
        ("130692545", False),
        ("046454286", True),
        ("0", True),
        ("", False),
        ("12a4", False),
        ("٤١١١١١١١١١١١١١١١", True),
    ],
)
def test_luhn_ok(digits: str, ok: bool) -> None:
    assert luhn_ok(digits) is ok


@pytest.mark.parametrize(
    "text, kind, value",
    [
        # email
        ("write to marie.tremblay@example.com please", "email", "marie.tremblay@example.com"),
        ("jdoe+impots@mail.example.ca", "email", "jdoe+impots@mail.example.ca"),
        ("courriel: élise@exemple.qc.ca.", "email", "élise@exemple.qc.ca"),
        ("<JEAN.DUPONT@EXAMPLE.CA>", "email", "JEAN.DUPONT@EXAMPLE.CA"),
        # Canadian SIN: grouped or bare, Luhn-valid
        ("my SIN is 130 692 544", "sin", "130 692 544"),
        ("NAS: 130-692-544", "sin", "130-692-544"),
        ("sin#507483378 thx", "sin", "507483378"),
        # US SSN: dashed or spaced; bare only with a cue nearby
        ("SSN 512-34-5678", "ssn", "512-34-5678"),
        ("social security 401 22 3344", "ssn", "401 22 3344"),
        ("my ssn 512345678 for the treaty form", "ssn", "512345678"),
        # payment cards
        ("card 4111 1111 1111 1111 exp 12/28", "card", "4111 1111 1111 1111"),
        ("5555555555554444", "card", "5555555555554444"),
        ("amex 3782 822463 10005", "card", "3782 822463 10005"),
        ("discover 6011-1111-1111-1117", "card", "6011-1111-1111-1117"),
        ("mc 2223 0000 4841 0010", "card", "2223 0000 4841 0010"),
        # phones
        ("call (514) 555-0100", "phone", "(514) 555-0100"),
        ("514-555-0100", "phone", "514-555-0100"),
        ("514.555.0100!", "phone", "514.555.0100"),
        ("+1 514 555 0100", "phone", "+1 514 555 0100"),
        ("call me back at 1-800-555-0142", "phone", "1-800-555-0142"),
        ("tel 5145550100", "phone", "5145550100"),
        ("phone:15145550100", "phone", "15145550100"),
        ("+1 (613) 555-0147 ext. 3", "phone", "+1 (613) 555-0147"),
        ("Paris: +33 1 23 45 67 89, merci", "phone", "+33 1 23 45 67 89"),
        ("UK +44 (0)20 7946 0958", "phone", "+44 (0)20 7946 0958"),
        # addresses
        ("I live at 123 Main St", "address", "123 Main St"),
        ("1234 rue Sainte-Catherine", "address", "1234 rue Sainte-Catherine"),
        (
            "au 55, boulevard René-Lévesque Est, bureau 300",
            "address",
            "55, boulevard René-Lévesque Est, bureau 300",
        ),
        ("345, rue de l'Église", "address", "345, rue de l'Église"),
        ("Apt 4, 123 Maple Ave", "address", "Apt 4, 123 Maple Ave"),
        ("45 Elm Road apt 4", "address", "45 Elm Road apt 4"),
        ("210 rue St-Paul #12", "address", "210 rue St-Paul #12"),
        ("640 main st", "address", "640 main st"),
        ("je vis au 12 chemin de la montagne", "address", "12 chemin de la montagne"),
        (
            "1234 rue Sainte-Catherine, app. 3, Montréal QC H3B 1A7",
            "address",
            "1234 rue Sainte-Catherine, app. 3, Montréal QC H3B 1A7",
        ),
        (
            "1600 Pennsylvania Avenue NW, Washington, DC 20500-0003",
            "address",
            "1600 Pennsylvania Avenue NW, Washington, DC 20500-0003",
        ),
        ("mon code postal est H2X 1Y4", "address", "H2X 1Y4"),
        ("postal code k1a0b1", "address", "k1a0b1"),
    ],
)
def test_finds_each_kind(text: str, kind: str, value: str) -> None:
    assert kinds_and_values(text) == [(kind, value)]


@pytest.mark.parametrize(
    "text",
    [
        "How long for Form T2201? They said 15 business days.",
        "Is the $90 fee refundable? And 90 $ in French?",
        "The deadline is 2026-11-28, or 28/11/2026, or 11.28.2026",
        "Office hours are 8:30-16:30, de 8 h 30 à 16 h 30",
        "Bill 96 and Loi 25",
        "Do you have 1-800 numbers for seniors?",
        "J'ai payé 1 234,56 $ et 123 456 789 $ c'est trop",
        "The rate went from 2.5% to 3.75%",
        "My confirmation number is 2024051234",
        "dossier 5145550100 - toujours pas de réponse",
        "My BN is 123456782 RC0001",
        "Canada Post tracking 7001 2345 6789 0123",
        "ISBN 978-2-123-45678-9",
        "version 2.3.1.4 of the app, build 10.0.19045",
        "Call 311 for city services, or 911",
        "20 minutes down the road, 2 kids on the way",
        "il reste 2 places pour la séance, 1 place pour la suivante",
        "The 9 Supreme Court judges ruled in 2025",
        "Is 514 or 438 the area code? My number ends in 0100",
        "Take highway 401 exit 613",
        "NEQ 1234567890, invoice 2026-000123 for 1,250.00 $",
        "Budget: +25 000 000 $",
        # a bare 9-digit run is an SSN only with a cue like "SSN" nearby
        "number 512345678 on the form",
    ],
)
def test_leaves_faq_style_text_alone(text: str) -> None:
    assert find(text) == []
    assert redact(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "card 4111 1111 1111 1112",  # Luhn fails
        "card 1234 5678 9012 3452",  # Luhn passes, no issuer starts with 1
        "4111 1111 1111 111",  # Visa never has 15 digits
        "SSN 000-12-3456, 666-12-3456, 912-12-3456, 123-00-4567, 123-45-0000",  # SSA rules
    ],
)
def test_checksum_and_number_rule_failures_are_not_redacted(text: str) -> None:
    assert not any(f.kind in {"sin", "card", "ssn"} for f in find(text))


def test_a_card_is_reported_as_a_card_only() -> None:
    # 5145550100000008 is a Luhn-valid Mastercard whose first ten digits read like a phone number.
    for text in ("5145550100000008", "5145 5501 0000 0008", "pay with 5145-5501-0000-0008 now"):
        found = find(text)
        assert [f.kind for f in found] == ["card"]
        assert phone_numbers(text) == []


def test_a_valid_sin_is_a_sin_not_an_ssn() -> None:
    assert kinds_and_values("SSN 130692544") == [("sin", "130692544")]


def test_several_findings_are_sorted_and_do_not_overlap() -> None:
    text = (
        "SIN 130 692 544, tel (514) 555-0100, card 4111111111111111, jdoe@example.com, 1 Yonge "
        "St M5E 1E5"
    )
    found = find(text)
    assert [f.kind for f in found] == ["sin", "phone", "card", "email", "address"]
    assert all(a.end <= b.start for a, b in itertools.pairwise(found))
    assert redact(text) == "SIN [sin], tel [phone], card [card], [email], [address]"


@pytest.mark.parametrize(
    "text, numbers",
    [
        ("(514) 555-0100", ["5145550100"]),
        ("+1 514 555 0100", ["+15145550100"]),
        ("+1-514-555-0100 or 514.555.0199", ["+15145550100", "5145550199"]),
        ("call me at 1-800-555-0142", ["18005550142"]),
        ("+44 (0)20 7946 0958", ["+442079460958"]),
        ("+33 1 23 45 67 89", ["+33123456789"]),
        ("اتصل ٥١٤٥٥٥٠١٠٠", ["5145550100"]),
        ("no number here, only $90 and 2026-11-28", []),
    ],
)
def test_phone_numbers_are_normalised(text: str, numbers: list[str]) -> None:
    assert phone_numbers(text) == numbers


@pytest.mark.parametrize(
    "text",
    [
        "Élise 😀 appelle au 514-555-0100 🙏 merci",
        "مرحبا، رقمي +1 514 555 0100 شكرا",
        "שלום 130 692 544 \u200fעברית\u200f",
        "e\u0301 cafe\u0301 ✨ jdoe@example.com 👨‍👩‍👧",
    ],
)
def test_accents_emoji_and_rtl_keep_offsets_right(text: str) -> None:
    found = find(text)
    assert found
    assert all(text[f.start : f.end] == f.value for f in found)


def load_labelled() -> list[dict]:
    with LABELLED.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def test_redaction_is_idempotent() -> None:
    texts = [row["text"] for row in load_labelled()]
    texts += [
        "jdoe@example.com5145550100",
        "4111 1111 1111 1111 130 692 544",
        "[phone] [email] [address]",
    ]
    for text in texts:
        once = redact(text)
        assert redact(once) == once
        assert find(once) == []


def test_score_counts_exact_kind_and_span_matches() -> None:
    labelled = [
        {"text": "call 514-555-0100", "spans": [{"kind": "phone", "start": 5, "end": 17}]},
        {
            "text": "call 514-555-0100",
            "spans": [{"kind": "phone", "start": 4, "end": 17}],
        },  # wrong start
        {"text": "Form T2201", "spans": [{"kind": "address", "start": 0, "end": 4}]},  # a miss
    ]
    assert score(labelled) == {"precision": 0.5, "recall": 1 / 3, "tp": 1, "fp": 1, "fn": 2}
    assert score([]) == {"precision": 1.0, "recall": 1.0, "tp": 0, "fp": 0, "fn": 0}


def test_labelled_set_precision_and_recall() -> None:
    labelled = load_labelled()
    assert len(labelled) >= 200
    for row in labelled:  # the file itself: spans inside the text, findings well formed
        assert all(0 <= s["start"] < s["end"] <= len(row["text"]) for s in row["spans"])
        assert all(
            isinstance(f, Finding) and row["text"][f.start : f.end] == f.value
            for f in find(row["text"])
        )
    result = score(labelled)
    print(f"redaction on {len(labelled)} labelled messages: {result}")
    assert result["precision"] >= 0.95, result
    assert result["recall"] >= 0.90, result
