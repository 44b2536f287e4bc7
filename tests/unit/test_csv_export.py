"""CSV exports of the dashboard open safely in a spreadsheet: whatever a spreadsheet could read as
a formula is quoted with ', also behind separators, blanks and in full-width forms."""

from __future__ import annotations

import csv
import io

import pytest

from bot.insight.dashboard.export import csv_text, formula_like


@pytest.mark.parametrize(
    "text",
    [
        "=1+1",
        "+1",
        "-1+cmd",
        "@SUM(A1)",
        "\t=1",
        ";=1+1",  # split on ";" in many locales, the second cell starts with =
        ",=1+1",
        "|=1",
        ' "=1+1',
        "'=1",
        "\u00a0=1",
        "\uff1d1+1",  # FULLWIDTH EQUALS SIGN, folded to "=" by NFKC
        "\uff0b1",
        "\uff0d1",
        "\uff20SUM(A1)",
        "\u3000\uff1d1",  # an ideographic space, then a full-width =
        "\ufe66HYPERLINK(1)",  # SMALL EQUALS SIGN
    ],
)
def test_formula_like_text_is_quoted(text: str) -> None:
    assert formula_like(text)
    table = {"columns": ["question"], "rows": [[text]]}
    cells = list(csv.reader(io.StringIO(csv_text(table))))
    assert cells[1] == ["'" + text]


@pytest.mark.parametrize(
    "text", ["How do I renew?", "a = b", "1+1", "email me@example.org", "; plain", "Café ＝ not"]
)
def test_plain_text_is_left_alone(text: str) -> None:
    assert not formula_like(text)
    table = {"columns": ["question"], "rows": [[text, 3, None]]}
    cells = list(csv.reader(io.StringIO(csv_text(table))))
    assert cells[1] == [text, "3", ""]
