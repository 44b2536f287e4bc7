"""Writing the benchmark's results: bench/RESULTS.md (markdown tables) and
bench/results.png (chart)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.channels import ACK_AIM_MS, ChannelResults
from bench.cli_eval import EvalTiming
from bench.handoff import HandoffResults
from bench.retrieval import RetrievalResult
from bench.selector import Training

METRICS = (
    ("p_at_1", "P@1"),
    ("recall_at_5", "Recall@5"),
    ("mrr_at_10", "MRR@10"),
    ("answered_rate", "answered rate"),
    ("answered_precision", "answered precision"),
)


@dataclass
class Results:
    """Everything one benchmark run measured, filled in as it goes."""

    date: str
    machine: str
    commands: list[str]
    retrieval: list[RetrievalResult] = field(default_factory=list)
    trainings: list[Training] = field(default_factory=list)
    selector_setup: str = ""
    sequential: dict[str, dict[str, float]] = field(default_factory=dict)
    concurrent: dict[str, dict[str, float]] = field(default_factory=dict)
    load_setup: str = ""
    memory_mib: dict[str, float] = field(default_factory=dict)
    evals: dict[str, list[EvalTiming]] = field(default_factory=dict)
    channels: ChannelResults | None = None
    handoff: HandoffResults | None = None
    insight: str = ""
    notes: list[str] = field(default_factory=list)
    total_s: float = 0.0


def _cell(value: object) -> str:
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A markdown table; floats get 3 decimals (pre-format them as text for anything else)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows])


def _rows(runs: dict[str, dict[str, float]], keys: list[str]) -> list[list[object]]:
    return [
        [
            name,
            *(
                f"{runs[name][k]:.1f}" if k not in ("n", "errors") else int(runs[name][k])
                for k in keys
            ),
        ]
        for name in runs
    ]


def ratio(stack: float, bare: float) -> str:
    """`stack / bare`, or n/a when bare is zero."""
    return f"{stack / bare:.2f}" if bare else "n/a"


def _verdict(met: bool) -> str:
    return "met" if met else "**not met**"


def _retrieval(results: Results) -> str:
    rows = [
        [
            r.collection,
            r.method,
            int(r.metrics["n"]),
            *(r.metrics.get(k, "—") for k, _ in METRICS),
            f"{r.ms_per_query:.1f}" if r.ms_per_query is not None else "—",
        ]
        for r in results.retrieval
    ]
    trainings = [[t.collection, t.faqs, f"{t.seconds:.0f}"] for t in results.trainings]
    return "\n\n".join(
        [
            "## 1. Retrieval on the evaluation collections (dev split)",
            table(
                ["collection", "method", "queries", *(name for _, name in METRICS), "ms/query"],
                rows,
            ),
            (
                "answered rate / precision: the shipped answer decision (thresholds calibrated "
                "on each collection's own FAQs at index build, bot/knowledge/calibration.py); they "
                "only apply to the hybrid. ms/query: search time per query "
                "in-process (for the ResponseSelector: `Agent.parse_message`, model loaded)."
            ),
            results.selector_setup,
            table(
                [
                    "collection",
                    "FAQs (= labels = training examples)",
                    "`rasa train nlu` wall time, s",
                ],
                trainings,
            ),
        ]
    )


def _load(results: Results) -> str:
    seq_keys = ["n", "p50", "p95", "p99", "mean", "errors"]
    conc_keys = ["n", "throughput", "p50", "p95", "p99", "errors"]
    stack, bare = "stack", "bare Rasa"
    seq, conc = results.sequential, results.concurrent
    ratios = [
        ["p50 latency (sequential)", ratio(seq[stack]["p50"], seq[bare]["p50"])],
        ["p95 latency (sequential)", ratio(seq[stack]["p95"], seq[bare]["p95"])],
        ["p50 latency (concurrent)", ratio(conc[stack]["p50"], conc[bare]["p50"])],
        ["throughput (concurrent)", ratio(conc[stack]["throughput"], conc[bare]["throughput"])],
    ]
    return "\n\n".join(
        [
            "## 2. End-to-end latency and throughput: whole stack vs bare Rasa REST channel",
            results.load_setup,
            "Sequential (one message at a time), latency in ms:",
            table(
                ["target", "messages", "p50", "p95", "p99", "mean", "errors"], _rows(seq, seq_keys)
            ),
            "Concurrent, throughput in messages/s, latency in ms:",
            table(
                ["target", "messages", "msg/s", "p50", "p95", "p99", "errors"],
                _rows(conc, conc_keys),
            ),
            "Ratios (stack / bare):",
            table(["measure", "stack / bare"], ratios),
        ]
    )


def _eval_rows(collection: str, timings: list[EvalTiming]) -> list[list[object]]:
    cached = next(t for t in timings if t.index == "cached")
    rate = cached.seconds / cached.queries
    rows: list[list[object]] = []
    for t in timings:
        estimate = t.seconds + (1000 - t.queries) * rate
        rows.append(
            [
                collection,
                t.index,
                t.queries,
                f"{t.seconds:.1f}",
                f"{estimate:.1f}",
                _verdict(estimate < 120),
                t.p_at_1,
            ]
        )
    return rows


def _memory_and_eval(results: Results) -> str:
    memory = [[name, f"{mib:.0f}"] for name, mib in results.memory_mib.items()]
    evals = [
        row
        for collection, timings in results.evals.items()
        for row in _eval_rows(collection, timings)
    ]
    return "\n\n".join(
        [
            (
                "## 3. Peak memory during the stack run (RSS incl. child processes, sampled "
                "every 0.5 s)"
            ),
            table(["process", "peak RSS, MiB"], memory),
            (
                '"sum" is the peak of the simultaneous sum (pages shared between processes are '
                "counted twice). Target: < 2.5 GB (2,384 MiB) all "
                f"together: {_verdict(results.memory_mib.get('sum', 0) < 2384)}."
            ),
            (
                "## 4. `govbot eval` wall time (command line, process start and model "
                "loading included)"
            ),
            table(
                [
                    "collection",
                    "index",
                    "queries",
                    "wall s",
                    "est. s for 1,000 queries",
                    "< 2 min",
                    "P@1",
                ],
                evals,
            ),
            (
                "Estimate for 1,000 queries: the run's wall time plus the missing queries at the "
                "cached run's rate (start-up included in that rate, so an upper bound); the fresh "
                "run's extra time is the one-off index build, which grows with the FAQs, not with "
                "the queries."
            ),
        ]
    )


CHANNELS_HEADING = "## 5. Channels"


def channels_section(channels: ChannelResults) -> str:
    """Section 5: webhook acknowledgement latency and end-to-end throughput per provider channel."""
    acks = [
        [
            a.database,
            a.engine,
            a.channel if a.channel != "webchat" else "webchat (HTTP POST, full turn)",
            a.senders,
            a.n,
            f"{a.p50_ms:.1f}",
            f"{a.p99_ms:.1f}",
            f"{a.max_ms:.1f}",
            a.errors,
            _verdict(a.p99_ms < ACK_AIM_MS) if a.channel != "webchat" else "—",
        ]
        for a in channels.acks
    ]
    rates = [
        [
            t.database,
            t.workload,
            t.messages,
            t.conversations,
            t.replies,
            f"{t.seconds:.1f}",
            f"{t.rate:.1f}",
            t.errors,
            "yes" if t.complete else "**no**",
        ]
        for t in channels.throughput
    ]
    return "\n\n".join(
        [
            f"{CHANNELS_HEADING}: webhook acknowledgement latency and end-to-end throughput",
            channels.setup,
            (
                f"Acknowledgement latency in ms (aim: p99 < {ACK_AIM_MS:.0f} ms for the provider "
                "webhooks, even with the engine slowed):"
            ),
            table(
                [
                    "database",
                    "engine",
                    "channel",
                    "senders",
                    "requests",
                    "p50",
                    "p99",
                    "max",
                    "errors",
                    f"p99 < {ACK_AIM_MS:.0f} ms",
                ],
                acks,
            ),
            (
                "End-to-end throughput (first webhook to the last reply recorded at the "
                "fake providers):"
            ),
            table(
                [
                    "database",
                    "workload",
                    "messages",
                    "conversations",
                    "replies recorded",
                    "s",
                    "msg/s",
                    "errors",
                    "all answered",
                ],
                rates,
            ),
            "\n".join(f"- {note}" for note in channels.notes),
        ]
    )


HANDOFF_HEADING = "## 6. Contact centre"


def handoff_section(handoff: HandoffResults) -> str:
    """Section 6: hand-off fan-out to consoles, claim throughput, the console's queue page."""
    spread = [
        [name, s.n, f"{s.p50_ms:.1f}", f"{s.p99_ms:.1f}", f"{s.max_ms:.1f}"]
        for name, s in {**handoff.fanout, **handoff.page}.items()
    ]
    claims = [
        [
            c["database"],
            c["claims"],
            c["distinct"],
            f"{c['seconds']:.2f}",
            f"{c['rate']:.0f}",
            f"{c['p50_ms']:.1f}",
            f"{c['p99_ms']:.1f}",
            c["errors"],
        ]
        for c in handoff.claims
    ]
    return "\n\n".join(
        [
            (
                f"{HANDOFF_HEADING}: hand-off to every console, claims under contention, the "
                "queue page"
            ),
            "Latency in ms:",
            table(["measure", "n", "p50", "p99", "max"], spread),
            (
                "50 agents claiming at once until 1,000 waiting conversations are all taken (each "
                "claim one transaction; PostgreSQL uses `FOR UPDATE SKIP LOCKED`):"
            ),
            table(
                ["database", "claims", "distinct", "s", "claims/s", "p50 ms", "p99 ms", "errors"],
                claims,
            ),
            "\n".join(f"- {note}" for note in handoff.notes),
        ]
    )


INSIGHT_HEADING = "## 7. Insight and privacy"


def personal_values_markdown(values: dict[str, Any]) -> str:
    """Issue 11: per-kind recall on the development and held-out splits, latency, memory."""
    dev, test = values["dev"], values["test"]
    rows = [
        [
            kind,
            dev["per_kind"].get(kind, {}).get("values", 0),
            f"{dev['per_kind'].get(kind, {}).get('recall', 0):.3f}",
            m["values"],
            f"{m['recall']:.3f}",
        ]
        for kind, m in test["per_kind"].items()
    ]
    rows.append(
        [
            "**all values**",
            sum(m["values"] for m in dev["per_kind"].values()),
            f"{dev['recall']:.3f}",
            sum(m["values"] for m in test["per_kind"].values()),
            f"{test['recall']:.3f}",
        ]
    )
    rows.append(
        [
            "false positives (messages without personal data changed)",
            dev["messages_without_personal_data"],
            f"{dev['false_positive_rate']:.3f}",
            test["messages_without_personal_data"],
            f"{test['false_positive_rate']:.3f}",
        ]
    )
    lat, mem = values["latency"], values["memory"]
    return "\n\n".join(
        [
            (
                "Personal values caught (a value counts when none of its letters or digits is "
                "left; both splits were written alongside the code, the test split scored only at "
                "the end):"
            ),
            table(["kind", "dev values", "dev recall", "test values", "test recall"], rows),
            (
                f"`find` per message: p50 {lat['p50_ms']:.2f} ms, p95 {lat['p95_ms']:.2f} ms, "
                f"p99 {lat['p99_ms']:.2f} ms ({lat['messages']:,} messages). Memory the redactor "
                f"adds to a process: {mem['added_mb']:.0f} MiB. Language detected right on the "
                f"{values['language']['messages']} messages with personal data: "
                f"{values['language']['right_before']} before redaction, "
                f"{values['language']['right_after']} after."
            ),
        ]
    )


def privacy_markdown(results: dict[str, Any]) -> str:
    """Redaction quality per kind and throughput."""
    quality = results["quality"]
    rows = [
        [kind, m["labelled"], f"{m['precision']:.3f}", f"{m['recall']:.3f}"]
        for kind, m in quality["per_kind"].items()
    ]
    overall = quality["overall"]
    rows.append(
        [
            "**all**",
            overall["tp"] + overall["fn"],
            f"{overall['precision']:.3f}",
            f"{overall['recall']:.3f}",
        ]
    )
    speed = [
        [
            name.replace("throughput_", ""),
            f"{t['messages']:,}",
            f"{t['messages_per_s']:,.0f}",
            f"{t['us_per_message']:.1f}",
        ]
        for name, t in results.items()
        if name.startswith("throughput_")
    ]
    return "\n\n".join(
        [
            personal_values_markdown(results["values"]),
            (
                f"Redaction on the labelled set ({quality['examples']} messages, "
                f"{quality['without_personal_data']} without personal data; spans must match kind "
                "and position exactly):"
            ),
            table(["kind", "labelled spans", "precision", "recall"], rows),
            "Redaction throughput (one process, one core):",
            table(["messages", "count", "messages/s", "µs per message"], speed),
        ]
    )


def insight_section(
    dashboard: dict[str, Any], alerts: dict[str, Any], privacy: dict[str, Any]
) -> str:
    """Section 7: the dashboard with 1 million messages, alert detection, redaction."""
    from bench import alerts as alerts_bench
    from bench import dashboard as dashboard_bench

    return "\n\n".join(
        [
            (
                f"{INSIGHT_HEADING}: dashboard with 1 million messages, emerging-issue "
                "detection, redaction"
            ),
            "### Dashboard (`compute` of every figure and table, in-process), in ms",
            dashboard_bench.markdown(dashboard),
            "### Emerging-issue alerts: detection delay after a surge starts",
            alerts_bench.section(alerts),
            "### Redaction of personal data",
            privacy_markdown(privacy),
        ]
    )


def with_section(document: str, section: str, heading: str = CHANNELS_HEADING) -> str:
    """`document` with its section under `heading` replaced by `section` (inserted before the notes,
    or appended, when it has none)."""
    lines = document.rstrip("\n").split("\n")
    start = next((i for i, line in enumerate(lines) if line.startswith(heading)), None)
    if start is None:
        start = next((i for i, line in enumerate(lines) if line.startswith("## Notes")), len(lines))
        end = start
    else:
        end = next(
            (i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines)
        )
    before, after = "\n".join(lines[:start]).rstrip("\n"), "\n".join(lines[end:])
    return "\n\n".join(part for part in (before, section.strip("\n"), after) if part) + "\n"


def markdown(results: Results) -> str:
    """The whole RESULTS.md."""
    header = "\n".join(
        [
            "# Benchmark results",
            "",
            f"- Date: {results.date}",
            f"- Machine: {results.machine}",
            f"- Total benchmark time: {results.total_s / 60:.1f} min",
            "- Commands:",
            "",
            *(f"      {c}" for c in results.commands),
        ]
    )
    notes = "## Notes\n\n" + "\n".join(f"- {n}" for n in results.notes) if results.notes else ""
    channels = channels_section(results.channels) if results.channels else ""
    handoff = handoff_section(results.handoff) if results.handoff else ""
    parts = [
        header,
        _retrieval(results),
        _load(results),
        _memory_and_eval(results),
        channels,
        handoff,
        results.insight,
        notes,
    ]
    return "\n\n".join(p for p in parts if p) + "\n"


def chart(results: Results, path: Path) -> None:
    """P@1 per method per collection, and the latency/throughput comparison, in one PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    figure, (quality, latency, throughput) = plt.subplots(
        1, 3, figsize=(17, 5.2), gridspec_kw={"width_ratios": [2.2, 1.3, 0.8]}
    )
    collections = list(dict.fromkeys(r.collection for r in results.retrieval))
    methods = list(dict.fromkeys(r.method for r in results.retrieval))
    width = 0.8 / len(methods)
    for offset, method in enumerate(methods):
        values = [
            next(
                (
                    r.metrics["p_at_1"]
                    for r in results.retrieval
                    if r.collection == c and r.method == method
                ),
                0.0,
            )
            for c in collections
        ]
        bars = quality.bar(
            np.arange(len(collections)) + offset * width, values, width, label=method
        )
        quality.bar_label(bars, fmt="%.2f", fontsize=7)
    quality.set_xticks(np.arange(len(collections)) + width * (len(methods) - 1) / 2, collections)
    quality.set(title="Retrieval P@1 (dev split)", ylabel="P@1", ylim=(0, 1))
    quality.legend(fontsize=8, loc="upper right")
    targets = list(results.sequential)
    for offset, target in enumerate(targets):
        values = [results.sequential[target][q] for q in ("p50", "p95", "p99")]
        bars = latency.bar(np.arange(3) + offset * 0.4, values, 0.4, label=target)
        latency.bar_label(bars, fmt="%.0f", fontsize=7)
    latency.set_xticks(np.arange(3) + 0.2, ["p50", "p95", "p99"])
    latency.set(title="Sequential latency per message", ylabel="ms")
    latency.legend(fontsize=8)
    values = [results.concurrent[t]["throughput"] for t in targets]
    bars = throughput.bar(targets, values, color=["C0", "C1"][: len(targets)])
    throughput.bar_label(bars, fmt="%.1f", fontsize=8)
    throughput.set(title="Throughput (concurrent)", ylabel="messages / s")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
