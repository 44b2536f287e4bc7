"""Run by the ENGINE's Python (Rasa 3.6): parse texts with trained NLU models, dump the
FAQ rankings.

Usage: python bench/rasa_parse.py JOBS.json, where JOBS.json is a list of {"model", "texts", "out"};
each `out` receives one ranking per text: [[faq_id, confidence], ...] (best first, up to 10).
Standalone on purpose: the app's code does not exist in the engine's environment.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

RETRIEVAL_INTENT = "faq"


async def rankings(model: str, texts: list[str]) -> tuple[list[list[tuple[str, float]]], float]:
    """The ResponseSelector's ranking of every text, and the parse time per text in ms
    (model loaded)."""
    from rasa.core.agent import Agent

    agent = Agent.load(model)
    started = time.perf_counter()
    out = []
    for text in texts:
        parsed = await agent.parse_message(text)
        ranking = parsed["response_selector"][RETRIEVAL_INTENT]["ranking"]
        prefix = RETRIEVAL_INTENT + "/"
        out.append(
            [
                (r["intent_response_key"].removeprefix(prefix), float(r["confidence"]))
                for r in ranking
            ]
        )
    return out, 1000 * (time.perf_counter() - started) / max(len(texts), 1)


async def main(jobs_file: Path) -> None:
    """Parse every job's texts and write its rankings, with the parse time per text."""
    for job in json.loads(jobs_file.read_text()):
        ranked, ms = await rankings(job["model"], job["texts"])
        Path(job["out"]).write_text(json.dumps({"rankings": ranked, "ms_per_query": ms}))


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1])))
