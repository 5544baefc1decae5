"""The embedding model in ONNX Runtime: exported once from the local sentence-transformers folder
(no download), optionally quantised to int8, and cached beside the index.

The exported graph ends in the same mean pooling and L2 normalisation as the sentence-transformers
pipeline of all-MiniLM-L6-v2, and texts are cut at the model's own ``max_seq_length``, so its
vectors are interchangeable in meaning with the torch embedder's (the tests bound the cosine).
"""

from __future__ import annotations

import json
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from filelock import FileLock
from langchain_core.embeddings import Embeddings

# Bump when the export or the quantisation changes: exports of older versions are then not reused.
EXPORT_VERSION = 2
FP32_FILE = "model.onnx"
INT8_FILE = "model-int8.onnx"
# Padded tokens per ONNX Runtime call, measured on 2 cores (docs/benchmarks.md): a call's activations
# then stay in the CPU's cache. 512 embeds bench passages 8-17% faster than 4,096, and a question's
# 40 evidence sentences twice as fast.
BATCH_TOKENS = 512
MAX_BATCH = 64


def _note(message: str) -> None:
    print(f"exorag: {message}", file=sys.stderr, flush=True)


def max_seq_length(model_folder: str) -> int:
    """The sentence-transformers ``max_seq_length`` of the model (256 for all-MiniLM-L6-v2)."""
    config = Path(model_folder) / "sentence_bert_config.json"
    if config.is_file():
        return int(json.loads(config.read_text(encoding="utf-8"))["max_seq_length"])
    from transformers import AutoConfig

    return int(AutoConfig.from_pretrained(model_folder).max_position_embeddings)


def _export(model_folder: str, target: Path) -> None:
    """Export the transformer with mean pooling and L2 normalisation to ONNX at ``target``, its
    attention, layer norms and GELUs fused into ONNX Runtime's own kernels."""
    import torch
    from onnxruntime.transformers import optimizer
    from transformers import AutoModel

    class MeanPooledUnitVectors(torch.nn.Module):
        def __init__(self, encoder: torch.nn.Module):
            super().__init__()
            self.encoder = encoder

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                    token_type_ids: torch.Tensor) -> torch.Tensor:
            hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask,
                                  token_type_ids=token_type_ids).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, p=2, dim=1)

    # Eager attention exports the plain graph that ONNX Runtime's BERT fusion recognises (PyTorch's
    # fused attention exports a graph it does not): 2.3x torch's rate in fp32 instead of about 1x.
    encoder = AutoModel.from_pretrained(model_folder, attn_implementation="eager")
    model = MeanPooledUnitVectors(encoder).eval()
    plain = target.with_name(target.name + ".plain")
    example = torch.ones((2, 8), dtype=torch.long)
    axes = {0: "batch", 1: "tokens"}
    # The tracer warns of shape checks it freezes; they compare a mask with itself in an encoder.
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model, (example, example, torch.zeros_like(example)), str(plain),
            input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["embedding"],
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_type_ids": axes, "embedding": {0: "batch"}},
            opset_version=17, dynamo=False,
        )
    fused = optimizer.optimize_model(str(plain), model_type="bert", num_heads=encoder.config.num_attention_heads,
                                     hidden_size=encoder.config.hidden_size)
    fused.save_model_to_file(str(target))
    plain.unlink()


def _quantise(source: Path, target: Path) -> None:
    """Dynamic int8 quantisation of the matrix products and attention, weights per output channel:
    quantising the embedding lookups too, per tensor, brought the cosine to the fp32 vectors down to
    0.93 on real passages."""
    from onnx import TensorProto
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(source), str(target), op_types_to_quantize=["MatMul", "Attention"], per_channel=True,
                     weight_type=QuantType.QInt8,
                     # ONNX's shape inference cannot type the outputs of the fused contrib ops.
                     extra_options={"DefaultTensorType": TensorProto.FLOAT})


def export_folder(cache: Path, model_folder: str) -> Path:
    """Where the exports of one model folder are kept under ``cache``."""
    from exorag.embeddings import model_fingerprint

    return cache / f"{Path(model_folder).name}-{model_fingerprint(model_folder)}-v{EXPORT_VERSION}"


def ensure_onnx_model(model_folder: str, cache: Path, int8: bool) -> Path:
    """The ONNX file for ``model_folder`` (int8 or fp32), exported on first use and reused after.

    Files are written under temporary names and renamed, under a lock, so a second process waits
    for the first one's export instead of repeating it, and an interrupted export leaves nothing.
    """
    folder = export_folder(cache, model_folder)
    fp32, wanted = folder / FP32_FILE, folder / (INT8_FILE if int8 else FP32_FILE)
    if wanted.is_file():
        return wanted
    folder.mkdir(parents=True, exist_ok=True)
    with FileLock(str(folder / ".lock")):
        if wanted.is_file():
            return wanted
        _note(f"building the ONNX embedder{' (int8)' if int8 else ''} in {folder}, once; this takes under a minute ...")
        started = time.perf_counter()
        if not fp32.is_file():
            _export(model_folder, folder / f"{FP32_FILE}.tmp")
            os.replace(folder / f"{FP32_FILE}.tmp", fp32)
        if int8:
            _quantise(fp32, folder / f"{INT8_FILE}.tmp")
            os.replace(folder / f"{INT8_FILE}.tmp", wanted)
        _note(f"ONNX embedder ready in {time.perf_counter() - started:.1f} s")
    return wanted


def length_sorted_batches(lengths: list[int], batch_tokens: int = BATCH_TOKENS, max_batch: int = MAX_BATCH) -> list[list[int]]:
    """Positions of texts grouped shortest first, each group padding to at most ``batch_tokens``
    tokens: short texts go many to a call, long ones few, and little of any call is padding."""
    batches: list[list[int]] = []
    current: list[int] = []
    for position in sorted(range(len(lengths)), key=lengths.__getitem__):
        if current and (len(current) >= max_batch or (len(current) + 1) * lengths[position] > batch_tokens):
            batches.append(current)
            current = []
        current.append(position)
    if current:
        batches.append(current)
    return batches


class OnnxEmbeddings(Embeddings):
    """LangChain embeddings from an exported model in ONNX Runtime: unit vectors, like the torch embedder's."""

    def __init__(self, model_folder: str, onnx_file: Path, threads: int, embedder: str, batch_tokens: int = BATCH_TOKENS):
        import onnxruntime
        from transformers import AutoTokenizer

        self.model_name = f"{model_folder}#{embedder}"
        self.batch_tokens = batch_tokens
        self.tokenizer = AutoTokenizer.from_pretrained(model_folder)
        self.max_length = max_seq_length(model_folder)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # Spinning workers would take both cores from Chroma, BM25 and the web server between the
        # small calls of a query, as PyTorch's did before OMP_WAIT_POLICY=PASSIVE.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = onnxruntime.InferenceSession(str(onnx_file), options, providers=["CPUExecutionProvider"])

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        ids = self.tokenizer(list(texts), truncation=True, max_length=self.max_length)["input_ids"]
        vectors = np.zeros((len(texts), 0), dtype=np.float32)
        for batch in length_sorted_batches([len(i) for i in ids], self.batch_tokens):
            width = max(len(ids[p]) for p in batch)
            input_ids = np.zeros((len(batch), width), dtype=np.int64)
            mask = np.zeros((len(batch), width), dtype=np.int64)
            for row, position in enumerate(batch):
                input_ids[row, : len(ids[position])] = ids[position]
                mask[row, : len(ids[position])] = 1
            (embedded,) = self.session.run(None, {"input_ids": input_ids, "attention_mask": mask,
                                                  "token_type_ids": np.zeros_like(input_ids)})
            if not vectors.shape[1]:
                vectors = np.zeros((len(texts), embedded.shape[1]), dtype=np.float32)
            vectors[batch] = embedded
        return vectors.tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]
