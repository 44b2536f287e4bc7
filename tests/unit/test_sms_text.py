"""SMS encoding, segment counting and shortening, with the characters French answers
actually use."""

from __future__ import annotations

import pytest

from connectors.sms_text import (
    choice_lines,
    fit_chars,
    guess_language,
    is_gsm7,
    render_sms,
    segments,
    split_source,
)

SOURCE_EN = "Source: https://www.canada.ca/en/immigration-refugees-citizenship/services/canadian-passports/renew-adult-passport.html"
SOURCE_FR = "Source : https://www.canada.ca/fr/immigration-refugies-citoyennete/services/passeports-canadiens/renouvellement-passeport-adulte.html"
LONG_EN = (
    "You can renew your passport by mail or in person if your current passport was issued when you "
    "were 16 or older. You must have lived in Canada when it was issued, and it must not be "
    "damaged, lost or stolen. Processing takes 20 business days when you apply in person and "
    "longer by mail. Bring your current passport, two identical photos and the fee; a guarantor is "
    "not needed for a simplified renewal. If your passport expired more than 15 years ago, you "
    "must apply for a new passport instead."
)
LONG_FR = (
    "Vous pouvez renouveler votre passeport par la poste ou en personne s'il a été délivré après "
    "vos 16 ans. Vous deviez habiter au Canada à ce moment-là, et il ne doit pas être endommagé, "
    "perdu ou volé. Le traitement prend 20 jours ouvrables en personne et plus longtemps par la "
    "poste. Apportez votre passeport actuel, deux photos identiques et les frais; aucun répondant "
    "n'est nécessaire. Si votre passeport est expiré depuis plus de 15 ans, vous devez faire une "
    "nouvelle demande."
)


@pytest.mark.parametrize(
    "text",
    [
        "é è à ù ì ò",
        "Ça va",
        "École",
        "Où est le bureau le plus près?",
        "Ä Ö Ñ Ü ß ¿ ¡",
        "€ [1] {x} ~ | ^ \\",
    ],
)
def test_these_are_gsm7(text: str) -> None:
    assert is_gsm7(text)


@pytest.mark.parametrize(
    "text",
    [
        "ç",
        "français",
        "prête",
        "âge",
        "hôpital",
        "île",
        "coût",
        "Noël",
        "œuvre",
        "l’ARC",
        "«oui»",
        "🙂",
        "tab\there",
    ],
)
def test_these_force_ucs2(text: str) -> None:
    assert not is_gsm7(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("é" * 160, 1),
        ("é" * 161, 2),
        ("€" * 80, 1),
        ("€" * 81, 2),  # extension characters take two septets
        ("ê" * 70, 1),
        ("ê" * 71, 2),
        ("ê" * 134, 2),
        ("ê" * 135, 3),
        ("🙂" * 35, 1),
        ("🙂" * 35 + "a", 2),  # an emoji is a surrogate pair: two UCS-2 units
        ("", 1),
    ],
)
def test_segment_boundaries(text: str, expected: int) -> None:
    assert segments(text) == expected


def test_a_two_unit_character_is_never_split_across_segments() -> None:
    # 306 septets would be 2 segments, but the escape + € pair cannot straddle the 153 boundary.
    assert segments("a" * 152 + "€" + "a" * 152) == 3
    assert segments("a" * 66 + "🙂" + "a" * 66) == 3


def test_choices_are_numbered_with_a_hint_in_the_right_language() -> None:
    buttons = [
        {"title": "Renew", "payload": "/a"},
        {"title": "Lost", "payload": "/b"},
        {"title": "Fees", "payload": "/c"},
    ]
    assert choice_lines(buttons, "en") == "1) Renew\n2) Lost\n3) Fees\nReply 1, 2 or 3"
    assert choice_lines(buttons[:2], "fr").endswith("Répondez 1 ou 2")
    assert choice_lines(buttons[:1], "en").endswith("Reply 1")
    assert choice_lines([], "en") == ""


def test_a_short_answer_is_left_alone() -> None:
    text = f"You can renew online.\n{SOURCE_EN}"
    assert render_sms(text) == text


def test_a_long_answer_is_cut_at_a_sentence_and_keeps_its_source_link() -> None:
    out = render_sms(f"{LONG_EN}\n\n{SOURCE_EN}", max_segments=3)
    assert segments(out) <= 3
    assert out.endswith("\n" + SOURCE_EN)
    body = out[: -len(SOURCE_EN) - 1]
    assert body.endswith(". ...")  # GSM-7 text gets "...", since "…" would force UCS-2
    assert is_gsm7(out)
    assert LONG_EN.startswith(body[: -len(" ...")])


def test_french_ucs2_answer_with_choices_fits_and_uses_a_real_ellipsis() -> None:
    buttons = [
        {"title": "Renouveler", "payload": "/a"},
        {"title": "Passeport perdu", "payload": "/b"},
    ]
    out = render_sms(f"{LONG_FR}\n{SOURCE_FR}", buttons, max_segments=3)
    assert not is_gsm7(out)  # "être", "Si" ... contain ê: the whole SMS is UCS-2
    assert segments(out) <= 3
    assert SOURCE_FR in out
    assert out.endswith("1) Renouveler\n2) Passeport perdu\nRépondez 1 ou 2")
    assert "…" in out


def test_typographic_quotes_and_spaces_do_not_force_ucs2() -> None:
    out = render_sms("L’ARC vous répond « rapidement ».\u00a0Merci")
    assert "L'ARC" in out and "\u00a0" not in out


def test_a_url_in_the_body_is_never_cut() -> None:
    url = "https://www.canada.ca/en/services/benefits/ei/ei-regular-benefit/apply.html"
    text = ("Apply online at " + url + " or call us. ") * 8
    out = render_sms(text, max_segments=2)
    assert segments(out) <= 2
    for token in out.split():
        if token.startswith("http"):
            assert token.rstrip(".") == url


def test_an_explicit_link_is_added_as_a_source_line_and_kept() -> None:
    link = "https://www.canada.ca/en/services/benefits/ei.html"
    out = render_sms(LONG_EN, max_segments=2, link=link, language="en")
    assert out.endswith(f"\nSource: {link}") and segments(out) <= 2
    assert render_sms(LONG_FR, link=link, language="fr").endswith(f"\nSource : {link}")


def test_split_source_and_fit_chars() -> None:
    assert split_source(f"Body text.\n{SOURCE_FR}") == ("Body text.", SOURCE_FR)
    assert split_source("No link here.") == ("No link here.", "")
    out = fit_chars(f"{LONG_EN}\n{SOURCE_EN}", 300)
    assert len(out) <= 300 and out.endswith(SOURCE_EN) and "…" in out


def test_language_guess() -> None:
    assert guess_language(LONG_FR) == "fr"
    assert guess_language(LONG_EN) == "en"
