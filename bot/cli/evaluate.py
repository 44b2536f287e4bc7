"""`govbot eval`: score retrieval and the answer decision on labelled queries."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import typer

from bot.cli.errors import fail
from bot.knowledge.faq import KnowledgeError
from bot.settings import get_settings


def eval_command(
    faqs: Path = typer.Option(..., help="FAQ file (JSONL or CSV) to index"),
    queries: Path = typer.Option(..., help="Labelled queries (JSONL)"),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object"),
    calibrate_thresholds: bool = typer.Option(
        False, "--calibrate", help="Also report the thresholds reaching 0.95 answered precision"
    ),
) -> None:
    """Score retrieval and the answer decision on labelled queries, with the live bot's code."""
    from bot.knowledge.bank import FaqBank
    from bot.knowledge.evaluation import calibrate, evaluate, rank_all, read_queries
    from bot.knowledge.importer import read_faq_file
    from bot.knowledge.service import KnowledgeBase

    try:
        bank = FaqBank.from_faqs(read_faq_file(faqs))
        labelled = read_queries(queries)
    except KnowledgeError as exc:
        fail(str(exc))
    settings = get_settings()
    kb = KnowledgeBase.open(
        bank, settings.var_dir / "cache" / f"eval-{bank.content_hash()}", settings
    )
    result = evaluate(kb, labelled)
    result["thresholds"] = dataclasses.asdict(kb.thresholds)
    if calibrate_thresholds:
        thresholds, metrics = calibrate(labelled, rank_all(kb, labelled))
        result["calibrated"] = {"thresholds": dataclasses.asdict(thresholds), **metrics}
    if as_json:
        typer.echo(json.dumps(result))
        return
    for key, value in result.items():
        typer.echo(f"{key}: {value}")
