"""Wall time of `govbot eval` (the command line, process start included), with a fresh and a
cached index."""

from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from bench.common import APP_BIN, say
from bot.settings import ROOT


@dataclass(frozen=True, slots=True)
class EvalTiming:
    """One `govbot eval` run: which index, how long, how many queries, and what it printed."""

    index: str
    seconds: float
    queries: int
    p_at_1: float


def command(collection: str) -> list[str]:
    """The command line, run from the repository root (RESULTS.md shows it as is)."""
    return [
        str(APP_BIN.relative_to(ROOT) / "govbot"),
        "eval",
        "--faqs",
        f"../shared/eval/{collection}.faqs.jsonl",
        "--queries",
        f"../shared/eval/{collection}.dev.jsonl",
        "--json",
    ]


def time_eval(collection: str, var_dir: Path) -> list[EvalTiming]:
    """Run `govbot eval` twice with VAR_DIR=`var_dir` (empty at first): fresh index, then cached."""
    environment = {**os.environ, "VAR_DIR": str(var_dir)}
    timings = []
    for index in ("fresh", "cached"):
        started = time.perf_counter()
        done = subprocess.run(
            command(collection),
            cwd=ROOT,
            env=environment,
            check=True,
            capture_output=True,
            text=True,
        )
        seconds = time.perf_counter() - started
        result = json.loads(done.stdout)
        timing = EvalTiming(index, seconds, int(result["n"]), float(result["p_at_1"]))
        say(
            f"govbot eval {collection} ({index} index): {seconds:.1f} s for {timing.queries} "
            f"queries (P@1 {timing.p_at_1})"
        )
        timings.append(timing)
    return timings
