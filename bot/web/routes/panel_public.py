"""The public "you said, we did" page of a published panel wave, at /panel/waves/{id} (?lang=fr):
what the panel answered to each closed question (overall only, small groups suppressed by
bot/panel/results.py) and what the agency did about it.

Rendered on the server, every value HTML-escaped, with no script; the per-address rate limit and
the body cap apply as on every route. An unknown or unpublished wave is a 404 page.
"""

from __future__ import annotations

import asyncio
import html
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import FileResponse, HTMLResponse, Response

from bot.panel.results import NotFound
from bot.web.auth import SECURITY_HEADERS
from bot.web.deps import ResultsDep, SettingsDep
from bot.web.routes.console_api import MAX_ID
from bot.web.routes.health import WEB

router = APIRouter(prefix="/panel", include_in_schema=False)
TEMPLATE = WEB / "pages" / "panel.html"

OTHER = {"en": ("fr", "Français"), "fr": ("en", "English")}
WORDS: dict[str, dict[str, str]] = {
    "en": {
        "heading": "You said, we did",
        "skip": "Skip to the results",
        "language": "Language",
        "respondents": "{n} people answered.",
        "suppressed": "Fewer than {min} people answered this question: not shown, to protect "
        "their privacy.",
        "answer": "Answer",
        "share": "Share",
        "mean": "Average: {mean} out of 5.",
        "we_did": "What we did",
        "not_found": "There is no published summary here.",
    },
    "fr": {
        "heading": "Vous avez dit, nous avons fait",
        "skip": "Aller aux résultats",
        "language": "Langue",
        "respondents": "{n} personnes ont répondu.",
        "suppressed": "Moins de {min} personnes ont répondu à cette question : non montré, pour "
        "protéger leur vie privée.",
        "answer": "Réponse",
        "share": "Part",
        "mean": "Moyenne : {mean} sur 5.",
        "we_did": "Ce que nous avons fait",
        "not_found": "Aucun résumé publié ici.",
    },
}


def _question(q: dict[str, Any], words: dict[str, str], min_group: int) -> str:
    e = html.escape
    parts = [f"<section><h2>{e(q['text'])}</h2>"]
    if q["suppressed"]:
        parts.append(f'<p class="note">{e(words["suppressed"].format(min=min_group))}</p>')
        return "".join(parts) + "</section>"
    parts.append(f"<p>{e(words['respondents'].format(n=q['respondents']))}</p>")
    rows = "".join(
        f'<tr><th scope="row">{e(c["label"])}</th><td class="num">{percent}</td></tr>'
        for c in q["cells"]
        for percent in [f"{round(c['share'] * 100)} %"]
    )
    parts.append(
        f'<table><caption class="sr-only">{e(q["text"])}</caption><thead><tr>'
        f'<th scope="col">{e(words["answer"])}</th>'
        f'<th scope="col" class="num">{e(words["share"])}</th></tr></thead>'
        f"<tbody>{rows}</tbody></table>"
    )
    if q["mean"] is not None:
        parts.append(f"<p>{e(words['mean'].format(mean=q['mean']))}</p>")
    return "".join(parts) + "</section>"


def _page(
    service: str, wave_id: int, lang: str, title: str, body: str, status: int
) -> HTMLResponse:
    words = WORDS[lang]
    other_lang, other_name = OTHER[lang]
    values = {
        "LANG": lang,
        "TITLE": title,
        "HEADING": words["heading"],
        "SKIP": words["skip"],
        "SERVICE": service,
        "LANGUAGE_LABEL": words["language"],
        "OTHER_URL": f"/panel/waves/{wave_id}?lang={other_lang}",
        "OTHER_LANG": other_lang,
        "OTHER_NAME": other_name,
    }
    page = TEMPLATE.read_text(encoding="utf-8")
    for key, value in values.items():
        page = page.replace(f"__{key}__", html.escape(value))
    return HTMLResponse(
        page.replace("__BODY__", body), status_code=status, headers=SECURITY_HEADERS
    )


@router.get("/waves/{wave_id}")
async def summary(
    wave_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    results: ResultsDep,
    settings: SettingsDep,
    lang: Annotated[Literal["en", "fr"], Query()] = "en",
) -> Response:
    """The wave's public summary (404 unless it is published)."""
    words = WORDS[lang]
    try:
        data = await asyncio.to_thread(results.public, wave_id, lang)
    except NotFound:
        body = f"<p>{html.escape(words['not_found'])}</p>"
        return _page(settings.service_name, wave_id, lang, "—", body, 404)
    body = "".join(_question(q, words, data["min_group"]) for q in data["questions"])
    body += (
        f"<section><h2>{html.escape(words['we_did'])}</h2>"
        f'<p class="we-did">{html.escape(data["we_did"] or "")}</p></section>'
    )
    return _page(settings.service_name, wave_id, lang, data["title"], body, 200)


@router.get("/panel.css")
async def stylesheet() -> Response:
    """The summary page's stylesheet."""
    return FileResponse(
        WEB / "pages" / "panel.css", media_type="text/css", headers=SECURITY_HEADERS
    )
