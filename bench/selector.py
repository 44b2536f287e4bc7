"""Rasa's native FAQ approach as a baseline: a ResponseSelector trained on each collection's FAQs.

For each collection a minimal Rasa project is generated in a temporary folder (one retrieval intent
`faq/<faq id>` per FAQ whose only training example is the FAQ's question, the answer as the response
text), trained with `rasa train nlu` in the engine's environment, and every dev query is parsed by
bench/rasa_parse.py in that environment; the rankings are scored here like the app's own methods.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from bench.common import BENCH_DIR, ENGINE_BIN, faq_file, query_file, say
from bench.retrieval import RetrievalResult, format_metrics, scored
from bot.knowledge.evaluation import read_queries
from bot.knowledge.importer import read_faq_file
from bot.knowledge.index import Hit

METHOD = "Rasa ResponseSelector"
EPOCHS = 300  # Rasa's default for the ResponseSelector
TRAIN_ARGS = [
    "train",
    "nlu",
    "--config",
    "config.yml",
    "--domain",
    "domain.yml",
    "--nlu",
    "nlu.yml",
    "--out",
    "models",
    "--fixed-model-name",
    "selector",
    "--quiet",
]
SETUP = (
    "Rasa ResponseSelector (Rasa 3.6, the engine's native FAQ approach): one retrieval intent "
    "`faq/<FAQ id>` per FAQ, whose only training example is the FAQ's question (this passes Rasa's "
    "check of 2 examples per intent, which counts the retrieval intent `faq` as a whole), and the "
    "answer as the `utter_faq/<FAQ id>` response. Pipeline: WhitespaceTokenizer, "
    "CountVectorsFeaturizer (word), CountVectorsFeaturizer (char_wb 1-4), ResponseSelector "
    f"(retrieval_intent faq, random_seed 42, epochs {EPOCHS} = Rasa's default, other settings "
    "default). Trained with `rasa train nlu` per collection; queries parsed with "
    "`Agent.parse_message`; ranking = `response_selector.faq.ranking`."
)


@dataclass(frozen=True, slots=True)
class Training:
    """How one ResponseSelector model was trained."""

    collection: str
    faqs: int
    seconds: float
    model: Path


# Measured while writing this benchmark (same data, same machine), not re-run by it.
EXPLORATION = (
    "ResponseSelector settings tried before settling on Rasa's defaults (question-only examples "
    "unless stated): 50 epochs: confidences stay uniform (qc_msss_en P@1 0.00); 1,000 epochs: "
    "qc_msss_en 0.16, qc_msss_fr 0.35 (~160 s of training each); batch size 8, 50 epochs: "
    "qc_quebecca_en 0.012, qc_msss_fr 0.051; learning rate 0.01 + constrain_similarities, 50 "
    "epochs: qc_quebecca_en 0.002; question + 2 answer sentences as examples, 100 epochs: "
    "qc_quebecca_en 0.016 (230 s). At 300 epochs the qc_quebecca_en model ranks its own training "
    "questions first only 13% of the time: with one example per FAQ it underfits, it does not "
    "merely fail to generalise. `use_text_as_label: true` (answer text as the label) fails to "
    "train in Rasa 3.6 with this pipeline (empty label features)."
)


def _config(language: str) -> dict[str, object]:
    return {
        "recipe": "default.v1",
        "language": language,
        "pipeline": [
            {"name": "WhitespaceTokenizer"},
            {"name": "CountVectorsFeaturizer"},
            {
                "name": "CountVectorsFeaturizer",
                "analyzer": "char_wb",
                "min_ngram": 1,
                "max_ngram": 4,
            },
            {
                "name": "ResponseSelector",
                "epochs": EPOCHS,
                "retrieval_intent": "faq",
                "random_seed": 42,
            },
        ],
        "policies": [],
    }


def _example(text: str) -> str:
    """One line of Rasa training data: whitespace collapsed, no brackets (Rasa's entity markup)."""
    return re.sub(r"\s+", " ", text).translate(str.maketrans("[]{}", "()()")).strip()


def _write_yaml(path: Path, doc: dict[str, object]) -> None:
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")


def write_project(collection: str, folder: Path) -> int:
    """Write config, domain and NLU data for one collection; return the number of FAQs."""
    faqs = read_faq_file(faq_file(collection))
    folder.mkdir(parents=True, exist_ok=True)
    _write_yaml(folder / "config.yml", _config(faqs[0].language))
    _write_yaml(
        folder / "domain.yml",
        {
            "version": "3.1",
            "intents": ["faq"],
            "responses": {f"utter_faq/{f.id}": [{"text": f.answer}] for f in faqs},
        },
    )
    _write_yaml(
        folder / "nlu.yml",
        {
            "version": "3.1",
            "nlu": [
                {"intent": f"faq/{f.id}", "examples": f"- {_example(f.question)}\n"} for f in faqs
            ],
        },
    )
    return len(faqs)


def engine(argv: list[str], cwd: Path) -> None:
    """Run a command of the engine's environment; its (verbose) output goes to `cwd`/engine.log."""
    log = cwd / "engine.log"
    with log.open("ab") as handle:
        done = subprocess.run(argv, cwd=cwd, stdout=handle, stderr=subprocess.STDOUT, check=False)
    if done.returncode:
        tail = log.read_text(errors="replace")[-3000:]
        raise RuntimeError(f"{' '.join(argv)} failed ({done.returncode}); end of {log}:\n{tail}")


def train(collection: str, folder: Path) -> Training:
    """Train one collection's model with `rasa train nlu`; the time includes the CLI's start-up."""
    count = write_project(collection, folder)
    started = time.perf_counter()
    engine([str(ENGINE_BIN / "rasa"), *TRAIN_ARGS], folder)
    seconds = time.perf_counter() - started
    say(
        f"{collection:15s} ResponseSelector trained on {count} FAQs in {seconds:.0f} s "
        f"({EPOCHS} epochs)"
    )
    return Training(collection, count, seconds, folder / "models" / "selector.tar.gz")


def evaluate(
    workdir: Path, collections: tuple[str, ...]
) -> tuple[list[RetrievalResult], list[Training]]:
    """Train a ResponseSelector per collection, parse every dev query with it, and score
    the rankings."""
    trainings = [train(c, workdir / c) for c in collections]
    queries = {c: read_queries(query_file(c)) for c in collections}
    outputs = {t.collection: workdir / f"{t.collection}.rankings.json" for t in trainings}
    jobs = [
        {
            "model": str(t.model),
            "texts": [q.text for q in queries[t.collection]],
            "out": str(outputs[t.collection]),
        }
        for t in trainings
    ]
    jobs_file = workdir / "jobs.json"
    jobs_file.write_text(json.dumps(jobs))
    engine([str(ENGINE_BIN / "python"), str(BENCH_DIR / "rasa_parse.py"), str(jobs_file)], workdir)
    results = []
    for training in trainings:
        parsed = json.loads(outputs[training.collection].read_text())
        # The confidence stands in for the cosine too: the answered_* metrics are not
        # reported for it.
        rankings = [
            [Hit(faq_id, confidence, confidence) for faq_id, confidence in ranking]
            for ranking in parsed["rankings"]
        ]
        result = scored(
            training.collection,
            METHOD,
            queries[training.collection],
            rankings,
            parsed["ms_per_query"],
        )
        say(
            f"{training.collection:15s} {METHOD:17s} {format_metrics(result.metrics)}  "
            f"{parsed['ms_per_query']:.1f} ms/query"
        )
        results.append(result)
    return results, trainings
