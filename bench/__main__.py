"""`python -m bench`: run every benchmark in turn, printing figures as they come, then write the report.

Order: retrieval with the app's code, the Rasa ResponseSelector baseline, `govbot eval` timing, and
last the stack (latency, throughput, memory), so that nothing else competes for the CPUs meanwhile.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")

from bench import cli_eval, latency, retrieval, selector
from bench.common import BENCH_DIR, COLLECTIONS, machine, say
from bench.memory import PeakRss
from bench.report import Results, chart, markdown
from bench.stackrun import running_stack

SEQUENTIAL_MESSAGES = 200  # per target
SEQUENTIAL_BLOCK = 20  # messages per block (4 citizens), targets alternating
CLIENTS = 8
CONCURRENT_BLOCK_S = 15.0
CONCURRENT_BLOCKS = 2  # per target: 2 x 15 s = 30 s each


def measure_retrieval(results: Results, workdir: Path) -> None:
    """Section 1: the app's three methods, then the ResponseSelector, on every collection."""
    for collection in COLLECTIONS:
        results.retrieval.extend(retrieval.app_methods(collection))
    selected, results.trainings = selector.evaluate(workdir / "selector", COLLECTIONS)
    results.retrieval.extend(selected)
    results.retrieval.sort(key=lambda r: COLLECTIONS.index(r.collection))
    results.selector_setup = selector.SETUP


def measure_stack(results: Results, workdir: Path) -> None:
    """Sections 2 and 3: latency and throughput, stack vs bare engine, under peak-RSS sampling."""
    with running_stack(workdir / "stack") as running:
        targets = [latency.stack_target(running.app_url), latency.bare_target(running.engine_url)]
        with PeakRss(running.pids) as memory:
            latency.interleaved(targets, blocks=1, count=len(latency.MESSAGES))  # warm-up, not counted
            say("warm-up done; sequential runs")
            sequential = latency.interleaved(targets, SEQUENTIAL_MESSAGES // SEQUENTIAL_BLOCK, count=SEQUENTIAL_BLOCK)
            results.sequential = {name: tally.stats() for name, tally in sequential.items()}
            for name, stats in results.sequential.items():
                say(f"sequential {name:9s} " + " ".join(f"{k}={v:.1f}" for k, v in stats.items()))
            concurrent = latency.interleaved(targets, CONCURRENT_BLOCKS, clients=CLIENTS, seconds=CONCURRENT_BLOCK_S)
            results.concurrent = {name: tally.stats() for name, tally in concurrent.items()}
            for name, stats in results.concurrent.items():
                say(f"concurrent {name:9s} " + " ".join(f"{k}={v:.1f}" for k, v in stats.items()))
        results.memory_mib = {**memory.peaks_mib()}
        results.memory_mib["sum"] = results.memory_mib.pop("total")
        say("peak RSS MiB: " + ", ".join(f"{k} {v:.0f}" for k, v in results.memory_mib.items()))
    results.load_setup = (
        f"Stack: `bot.stack.start` on free ports (temporary var folder, shipped index), `POST /webchat/messages`. "
        f"Bare: `POST /webhooks/rest/webhook` on the same engine process (custom actions still run in the app). "
        f"{len(latency.MESSAGES)} fixed messages: {len(latency.CONVERSATIONS)} EN/FR citizen conversations "
        f"(greeting, question, \"2\", question, thanks), a new session per conversation. Warm-up: "
        f"{len(latency.MESSAGES)} messages each. Sequential: {SEQUENTIAL_MESSAGES} messages per target in blocks "
        f"of {SEQUENTIAL_BLOCK}, alternating. Concurrent: {CLIENTS} clients, {CONCURRENT_BLOCKS} blocks of "
        f"{CONCURRENT_BLOCK_S:.0f} s per target, alternating. Stack start-up: {running.startup_s:.0f} s."
    )


def main() -> None:
    """Run everything and write bench/RESULTS.md and bench/results.png."""
    started = time.monotonic()
    results = Results(
        date=dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"), machine=machine(),
        commands=["make bench    # = OMP_NUM_THREADS=1 .venv/bin/python -m bench",
                  *(" ".join(cli_eval.command(c)) for c in ("qc_quebecca_en",))],
    )
    say(f"machine: {results.machine}")
    with tempfile.TemporaryDirectory(prefix="govbot-bench-") as temporary:
        workdir = Path(temporary)
        measure_retrieval(results, workdir)
        results.evals["qc_quebecca_en"] = cli_eval.time_eval("qc_quebecca_en", workdir / "eval-var")
        measure_stack(results, workdir)
    results.total_s = time.monotonic() - started
    (BENCH_DIR / "RESULTS.md").write_text(markdown(results), encoding="utf-8")
    chart(results, BENCH_DIR / "results.png")
    say(f"done in {results.total_s / 60:.1f} min: wrote {BENCH_DIR / 'RESULTS.md'} and {BENCH_DIR / 'results.png'}")


if __name__ == "__main__":
    main()
