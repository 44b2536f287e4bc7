"""`govbot panel`: the citizen panel from scripts: write a survey from a YAML file, schedule a
wave, read its results (suppressed as on the console) and publish its "you said, we did" summary.

The running app opens waves when their time comes (bot/panel/sweep.py) and runs each survey one
question at a time on the members' channels.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from bot.cli.errors import fail, start_time
from bot.settings import get_settings

if TYPE_CHECKING:
    from bot.panel.results import Results
    from bot.panel.waves import Waves

app = typer.Typer(no_args_is_help=True, help="The citizen panel: surveys, waves, results.")
survey_app = typer.Typer(no_args_is_help=True, help="Surveys.")
wave_app = typer.Typer(no_args_is_help=True, help="Waves of a survey to the panel.")
app.add_typer(survey_app, name="survey")
app.add_typer(wave_app, name="wave")


def _stores() -> tuple[Waves, Results]:
    from bot.panel.profile import profile_questions
    from bot.panel.results import Results
    from bot.panel.waves import Waves
    from bot.storage.audit import AuditLog
    from bot.storage.db import Database

    settings = get_settings()
    db = Database(settings.database_url)
    db.create_schema()
    profile = profile_questions(settings.panel_profile_file)
    return Waves(db, AuditLog(db), settings.service_name), Results(db, profile)


@survey_app.command("add")
def survey_add(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="The survey, in YAML"),
    by: str = typer.Option(..., "--by", help="The supervisor writing it"),
) -> None:
    """Check and store a survey (docs/panel.md shows the format); prints its id."""
    import yaml

    from bot.panel.definition import SurveyError

    try:
        definition = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        fail(f"{file}: {exc}")
    waves, _ = _stores()
    try:
        typer.echo(str(waves.create_survey(definition, by)))
    except SurveyError as exc:
        fail(f"{file}: {exc}")


@wave_app.command("create")
def wave_create(
    survey: int = typer.Option(..., "--survey", help="The survey's id"),
    by: str = typer.Option(..., "--by", help="The supervisor sending it"),
    sample: int = typer.Option(0, "--sample", help="Members drawn at random (0: everyone)"),
    send_at: str = typer.Option("", "--send-at", help="ISO time with offset (default: now)"),
    remind_after: int = typer.Option(72, "--remind-after", help="Hours before the one reminder"),
    open_for: int = typer.Option(14 * 24, "--open-for", help="Hours the wave stays open"),
) -> None:
    """Schedule a wave; prints its id. The running app opens it at its time."""
    from bot.panel.definition import SurveyError

    start = start_time(send_at)
    waves, _ = _stores()
    try:
        wave_id = waves.schedule(
            survey,
            by,
            send_at=start,
            sample=sample or None,
            remind_after_h=remind_after,
            open_for_h=open_for,
        )
    except SurveyError as exc:
        fail(str(exc))
    typer.echo(str(wave_id))


@wave_app.command("results")
def wave_results(
    wave: int = typer.Argument(..., metavar="ID"),
    as_csv: bool = typer.Option(False, "--csv", help="CSV instead of JSON"),
) -> None:
    """The wave's results (groups under 10 respondents suppressed)."""
    from bot.panel.results import NotFound

    _, results = _stores()
    try:
        typer.echo(results.csv(wave) if as_csv else json.dumps(results.wave(wave), indent=2))
    except NotFound as exc:
        fail(str(exc))


@wave_app.command("publish")
def wave_publish(
    wave: int = typer.Argument(..., metavar="ID"),
    we_did_en: str = typer.Option(..., "--we-did-en", help="What was done, in English"),
    we_did_fr: str = typer.Option("", "--we-did-fr", help="The same in French"),
    by: str = typer.Option(..., "--by", help="The supervisor publishing it"),
) -> None:
    """Publish the wave's "you said, we did" page at /panel/waves/ID."""
    from bot.panel.definition import SurveyError

    waves, _ = _stores()
    try:
        waves.publish(wave, we_did_en, we_did_fr or None, by)
    except SurveyError as exc:
        fail(str(exc))
    typer.echo(f"/panel/waves/{wave}")


@app.command("status")
def status() -> None:
    """The panel's members, surveys and waves, as JSON."""
    waves, _ = _stores()
    typer.echo(json.dumps(waves.overview(), indent=2))
