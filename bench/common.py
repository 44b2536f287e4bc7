"""What every benchmark shares: paths, the evaluation collections, progress output, the machine."""

from __future__ import annotations

import os
import platform
import socket
import time
from pathlib import Path

from bot.settings import ROOT

EVAL_DIR = ROOT.parent / "shared" / "eval"
COLLECTIONS = ("qc_quebecca_en", "qc_msss_en", "qc_msss_fr")
APP_BIN = ROOT / ".venv" / "bin"
ENGINE_BIN = ROOT / ".venv-engine" / "bin"
BENCH_DIR = Path(__file__).resolve().parent

_STARTED = time.monotonic()
# The benchmarks' clients all come from 127.0.0.1 and stand for many citizens: the abuse limits
# stand aside, except in the abuse-limits section (bench/security.py), which measures them.
NO_RATE_LIMITS: dict[str, str] = {
    "rate_limit_per_address": "1000000/minute",
    "rate_limit_chat_per_address": "1000000/minute",
    "rate_limit_chat_per_session": "1000000/minute",
    "rate_limit_per_sender": "1000000/minute",
    "rate_limit_per_account": "1000000/minute",
}


def faq_file(collection: str) -> Path:
    """The FAQ file of an evaluation collection."""
    return EVAL_DIR / f"{collection}.faqs.jsonl"


def query_file(collection: str) -> Path:
    """The labelled development queries of an evaluation collection."""
    return EVAL_DIR / f"{collection}.dev.jsonl"


def say(message: str) -> None:
    """Print a progress line, prefixed with the time since the benchmark started."""
    elapsed = time.monotonic() - _STARTED
    print(f"[{int(elapsed // 60):02d}:{elapsed % 60:04.1f}] {message}", flush=True)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def machine() -> str:
    """CPU model, core count and memory of this machine, as `nproc` and /proc report them."""
    model = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{model}, {len(os.sched_getaffinity(0))} cores (nproc), {memory_gib:.0f} GiB "
        f"RAM, {platform.system()}"
    )


POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def postgres_schema() -> str | None:
    """The URL of a new, empty schema on the local PostgreSQL; None (said why) when it is not
    there."""
    import uuid

    from sqlalchemy import text

    from bot.storage.db import Database

    schema = "bench_" + uuid.uuid4().hex[:8]
    try:
        admin = Database(POSTGRES_URL)
        with admin.engine.begin() as connection:
            connection.execute(text(f"CREATE SCHEMA {schema}"))
        admin.engine.dispose()
    except Exception as exc:  # noqa: BLE001 - reported as "not measured"
        say(f"PostgreSQL not reachable: {exc.__class__.__name__}")
        return None
    return f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
