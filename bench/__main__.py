"""`python -m bench`: run every benchmark in turn, printing figures as they come, then write
the report.

Order: retrieval with the app's code, the Rasa ResponseSelector baseline, `govbot eval` timing, then
the stack (latency, throughput, memory, the provider channels, the contact centre), one section at a
time so that nothing else competes for the CPUs, and last the insight and privacy section.
`python -m bench channels` (or `handoff`, or `insight`) runs only that section and replaces it in
bench/RESULTS.md, leaving the other sections as they are.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")

from bench import channels, cli_eval, handoff, latency, retrieval, selector
from bench.common import BENCH_DIR, COLLECTIONS, machine, say
from bench.index_speed import COMMAND as SPEED_COMMAND
from bench.index_speed import HEADING as SPEED_HEADING
from bench.memory import PeakRss
from bench.outreach import COMMAND as OUTREACH_COMMAND
from bench.outreach import HEADING as OUTREACH_HEADING
from bench.panel import COMMAND as PANEL_COMMAND
from bench.panel import HEADING as PANEL_HEADING
from bench.report import (
    CHANNELS_HEADING,
    HANDOFF_HEADING,
    INSIGHT_HEADING,
    Results,
    channels_section,
    chart,
    handoff_section,
    insight_section,
    markdown,
    with_section,
)
from bench.security import COMMAND as SECURITY_COMMAND
from bench.security import HEADING as SECURITY_HEADING
from bench.stackrun import running_stack
from bench.studio import COMMAND as STUDIO_COMMAND
from bench.studio import HEADING as STUDIO_HEADING

SEQUENTIAL_MESSAGES = 200  # per target
SEQUENTIAL_BLOCK = 20  # messages per block (4 citizens), targets alternating
CLIENTS = 8
CONCURRENT_BLOCK_S = 15.0
CONCURRENT_BLOCKS = 2  # per target: 2 x 15 s = 30 s each
EVAL_COLLECTION = "qc_quebecca_en"
CHANNELS_COMMAND = "OMP_NUM_THREADS=1 .venv/bin/python -m bench channels"
HANDOFF_COMMAND = "OMP_NUM_THREADS=1 .venv/bin/python -m bench handoff"
INSIGHT_COMMAND = "OMP_NUM_THREADS=1 .venv/bin/python -m bench insight"


def measure_retrieval(results: Results, workdir: Path) -> None:
    """Section 1: the app's three methods, then the ResponseSelector, on every collection."""
    for collection in COLLECTIONS:
        results.retrieval.extend(retrieval.app_methods(collection))
    selected, results.trainings = selector.evaluate(workdir / "selector", COLLECTIONS)
    results.retrieval.extend(selected)
    results.retrieval.sort(key=lambda r: COLLECTIONS.index(r.collection))
    results.selector_setup = selector.SETUP


def _summary(kind: str, tallies: dict[str, latency.Tally]) -> dict[str, dict[str, float]]:
    """Each target's statistics, printed as they come."""
    stats = {name: tally.stats() for name, tally in tallies.items()}
    for name, figures in stats.items():
        say(f"{kind} {name:9s} " + " ".join(f"{k}={v:.1f}" for k, v in figures.items()))
    return stats


def measure_stack(results: Results, workdir: Path) -> None:
    """Sections 2 and 3: latency and throughput, stack vs bare engine, under peak-RSS sampling."""
    blocks = SEQUENTIAL_MESSAGES // SEQUENTIAL_BLOCK
    with running_stack(workdir / "stack") as running:
        targets = [
            latency.stack_target(running.app_url),
            latency.bare_target(running.engine_url, running.engine_token),
        ]
        with PeakRss(running.pids) as memory:
            latency.interleaved(
                targets, blocks=1, count=len(latency.MESSAGES)
            )  # warm-up, not counted
            say("warm-up done")
            sequential = latency.interleaved(targets, blocks, count=SEQUENTIAL_BLOCK)
            results.sequential = _summary("sequential", sequential)
            concurrent = latency.interleaved(
                targets, CONCURRENT_BLOCKS, clients=CLIENTS, seconds=CONCURRENT_BLOCK_S
            )
            results.concurrent = _summary("concurrent", concurrent)
    results.memory_mib = memory.peaks_mib()
    say("peak RSS MiB: " + ", ".join(f"{k} {v:.0f}" for k, v in results.memory_mib.items()))
    results.load_setup = (
        "Stack: `bot.stack.start` on free ports (temporary var folder, the shipped index), "
        "`POST /webchat/messages`. Bare: `POST /webhooks/govbot/webhook` (the engine's input "
        "channel, with its token) on the same engine process "
        f"(the custom actions still run in the app). {len(latency.MESSAGES)} fixed messages: "
        f'{len(latency.CONVERSATIONS)} EN/FR citizen conversations (greeting, question, "2", '
        f"question, thanks), a new session per conversation. Warm-up: {len(latency.MESSAGES)} "
        f"messages per target. Sequential: {SEQUENTIAL_MESSAGES} messages per target in blocks of "
        f"{SEQUENTIAL_BLOCK}, alternating. Concurrent: {CLIENTS} clients, {CONCURRENT_BLOCKS} "
        f"blocks of {CONCURRENT_BLOCK_S:.0f} s per target, alternating. Stack start-up: "
        f"{running.startup_s:.0f} s."
    )


def main() -> None:
    """Run everything and write bench/RESULTS.md and bench/results.png."""
    started = time.monotonic()
    load_before = os.getloadavg()[0]
    results = Results(
        date=dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        machine=machine(),
        commands=[
            (
                "make bench    # = OMP_NUM_THREADS=1 .venv/bin/python -m bench, from the "
                "repository root"
            ),
            (
                "VAR_DIR=<empty temporary folder> "
                f"{' '.join(cli_eval.command(EVAL_COLLECTION))}    # twice"
            ),
            f".venv-engine/bin/rasa {' '.join(selector.TRAIN_ARGS)}    # in each generated project",
            ".venv-engine/bin/python bench/rasa_parse.py jobs.json    # ResponseSelector rankings",
            f"{CHANNELS_COMMAND}    # section 5 only, replacing it in RESULTS.md",
            f"{HANDOFF_COMMAND}    # section 6 only, replacing it in RESULTS.md",
            f"{INSIGHT_COMMAND}    # section 7 only, replacing it in RESULTS.md",
        ],
    )
    say(f"machine: {results.machine}")
    with tempfile.TemporaryDirectory(prefix="govbot-bench-") as temporary:
        workdir = Path(temporary)
        measure_retrieval(results, workdir)
        results.evals[EVAL_COLLECTION] = cli_eval.time_eval(EVAL_COLLECTION, workdir / "eval-var")
        measure_stack(results, workdir)
        results.channels = channels.measure(workdir / "channels")
        results.handoff = handoff.measure(workdir / "handoff")
        results.insight = measure_insight(workdir / "insight")
    results.total_s = time.monotonic() - started
    results.notes += [
        selector.EXPLORATION,
        (
            f"1-minute load average: {load_before:.2f} before the run, {os.getloadavg()[0]:.2f} "
            f"after it ({os.cpu_count()} CPUs; the machine is shared, so other work may have "
            "run meanwhile)."
        ),
    ]
    (BENCH_DIR / "RESULTS.md").write_text(markdown(results), encoding="utf-8")
    chart(results, BENCH_DIR / "results.png")
    say(f"done in {results.total_s / 60:.1f} min: wrote bench/RESULTS.md and bench/results.png")


def measure_insight(workdir: Path) -> str:
    """Section 7, as markdown."""
    from bench import alerts as alerts_bench
    from bench import dashboard as dashboard_bench
    from bench import privacy as privacy_bench

    dashboard = dashboard_bench.measure(workdir / "dashboard")
    say("dashboard measured")
    alerts = alerts_bench.measure(workdir / "alerts")
    say("alerts measured")
    privacy = privacy_bench.measure()
    say("redaction measured")
    return insight_section(dashboard, alerts, privacy)


def run_one_section(
    number: int, heading: str, command: str, measure: Callable[[Path, str], str]
) -> None:
    """Run one section alone and put it into bench/RESULTS.md in place of the previous one.
    `measure` gets a temporary folder and the line saying when and how it was measured, and returns
    the section's markdown."""
    say(f"machine: {machine()}")
    began = time.monotonic()
    date = dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    measured = f"Measured on {date} on {machine()}, alone: `{command}`."
    with tempfile.TemporaryDirectory(prefix=f"govbot-bench-{number}-") as temporary:
        section = measure(Path(temporary), measured)
    path = BENCH_DIR / "RESULTS.md"
    document = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n"
    path.write_text(with_section(document, section, heading), encoding="utf-8")
    say(
        f"done in {(time.monotonic() - began) / 60:.1f} min: wrote section {number} "
        "of bench/RESULTS.md"
    )


def _channels_alone(workdir: Path, measured: str) -> str:
    section = channels.measure(workdir)
    section.notes.append(measured)
    return channels_section(section)


def _handoff_alone(workdir: Path, measured: str) -> str:
    section = handoff.measure(workdir)
    section.notes.append(measured)
    return handoff_section(section)


def _insight_alone(workdir: Path, measured: str) -> str:
    return measure_insight(workdir) + f"\n\n- {measured}"


def _security_alone(workdir: Path, measured: str) -> str:
    from bench import security

    return security.measure(workdir) + f"\n- {measured}"


def _speed_alone(workdir: Path, measured: str) -> str:
    from bench import index_speed

    return index_speed.measure(workdir)


def _outreach_alone(workdir: Path, measured: str) -> str:
    from bench import outreach

    return outreach.measure(workdir)


def _panel_alone(workdir: Path, measured: str) -> str:
    from bench import panel

    return panel.measure(workdir)


def _studio_alone(workdir: Path, measured: str) -> str:
    from bench import studio

    return studio.measure(workdir)


SECTIONS = {
    "channels": (5, CHANNELS_HEADING, CHANNELS_COMMAND, _channels_alone),
    "handoff": (6, HANDOFF_HEADING, HANDOFF_COMMAND, _handoff_alone),
    "insight": (7, INSIGHT_HEADING, INSIGHT_COMMAND, _insight_alone),
    "security": (8, SECURITY_HEADING, SECURITY_COMMAND, _security_alone),
    "speed": (11, SPEED_HEADING, SPEED_COMMAND, _speed_alone),
    "studio": (13, STUDIO_HEADING, STUDIO_COMMAND, _studio_alone),
    "outreach": (14, OUTREACH_HEADING, OUTREACH_COMMAND, _outreach_alone),
    "panel": (15, PANEL_HEADING, PANEL_COMMAND, _panel_alone),
}


if __name__ == "__main__":
    if not sys.argv[1:]:
        main()
    elif len(sys.argv) == 2 and sys.argv[1] in SECTIONS:
        run_one_section(*SECTIONS[sys.argv[1]])
    else:
        sys.exit(f"usage: python -m bench [{' | '.join(SECTIONS)}]")
