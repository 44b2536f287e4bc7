"""Sections 2 (latency and throughput against bare Rasa) and 5 (channels) of one checkout, alone,
for comparing two versions of the code side by side in one session.

    cd <checkout> && .venv/bin/python <this file> OUT.md

Run it from the checkout to measure (it imports that checkout's `bot` and `bench`, so it also
measures a checkout older than this file); it writes both sections' markdown to OUT.md.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.getcwd())  # the checkout being measured, not the one holding this file
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")


def main(out: Path) -> None:
    """Measure sections 2 and 5 and write their markdown to `out`."""
    from bench import __main__ as full
    from bench import channels
    from bench.common import machine
    from bench.report import Results, _load, channels_section

    began, load_before = time.monotonic(), os.getloadavg()[0]
    date = dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    results = Results(date=date, machine=machine(), commands=[])
    with tempfile.TemporaryDirectory(prefix="govbot-bench-sections-") as temporary:
        workdir = Path(temporary)
        full.measure_stack(results, workdir)
        channel_results = channels.measure(workdir / "channels")
    memory = ", ".join(f"{name} {mib:.0f} MiB" for name, mib in results.memory_mib.items())
    note = (
        f"Checkout {os.getcwd()}, measured on {date} on {machine()}; peak RSS during section 2: "
        f"{memory}; {(time.monotonic() - began) / 60:.1f} min; 1-minute load average "
        f"{load_before:.2f} before, {os.getloadavg()[0]:.2f} after."
    )
    out.write_text(
        "\n\n".join([_load(results), channels_section(channel_results), f"- {note}"]) + "\n",
        encoding="utf-8",
    )


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python bench/sections.py OUT.md")
    main(Path(sys.argv[1]).resolve())
