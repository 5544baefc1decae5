"""The ONNX Runtime embedders against the torch one on the bundled corpus's passages, their export
built once and reused, and an index refusing queries from another embedder than the one that built it."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import BUNDLED_CORPUS, ROOT

from exorag.config import get_settings
from exorag.embeddings import get_embeddings, model_path
from exorag.ingest.sync import chunk_sources, embedding_text, sync_corpus
from exorag.onnx_embeddings import FP32_FILE, INT8_FILE, export_folder, length_sorted_batches
from exorag.store.chroma import EmbedderMismatch, VectorStore, chunk_from_row
from exorag.store.index import Index

START_EMBEDDER = ("from exorag.config import Settings; from exorag.embeddings import get_embeddings; "
                  "import sys; get_embeddings(Settings(embedder='onnx-int8', embedder_cache=sys.argv[1]))")


def start_process(cache: Path) -> subprocess.CompletedProcess:
    """A fresh Python process that loads the onnx-int8 embedder from ``cache``."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-c", START_EMBEDDER, str(cache)], capture_output=True, text=True,
                          env=env, timeout=600, check=True)


@pytest.fixture(scope="module")
def first_start(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """An embedder cache filled by a first start (its folder and what that start printed)."""
    cache = tmp_path_factory.mktemp("embedder")
    return cache, start_process(cache).stderr


@pytest.fixture(scope="module")
def passages() -> list[str]:
    """What the index embeds for the bundled corpus: every chunk's text with its section."""
    chunks_by_path, failed = chunk_sources(get_settings(corpus=BUNDLED_CORPUS))
    assert not failed
    texts = [embedding_text(chunk) for chunks in chunks_by_path.values() for chunk in chunks]
    assert len(texts) >= 20
    return texts


def test_first_start_builds_the_export_with_a_note_and_a_second_start_builds_nothing(first_start: tuple[Path, str]) -> None:
    cache, printed = first_start
    assert "building the ONNX embedder" in printed
    folder = export_folder(cache, model_path(get_settings()))
    built = {name: (folder / name).stat().st_mtime_ns for name in (FP32_FILE, INT8_FILE)}

    again = start_process(cache)

    assert "building" not in again.stderr
    assert {name: (folder / name).stat().st_mtime_ns for name in built} == built
    assert not list(folder.glob("*.tmp"))


@pytest.mark.parametrize(("embedder", "minimum"), [("onnx", 0.99), ("onnx-int8", 0.97)])
def test_onnx_vectors_match_the_torch_embedder_on_real_passages(
    first_start: tuple[Path, str], passages: list[str], embedder: str, minimum: float
) -> None:
    torch_vectors = np.asarray(get_embeddings(get_settings(embedder="torch")).embed_documents(passages))
    onnx = get_embeddings(get_settings(embedder=embedder, embedder_cache=first_start[0]))
    onnx_vectors = np.asarray(onnx.embed_documents(passages))

    assert onnx_vectors.shape == torch_vectors.shape
    np.testing.assert_allclose(np.linalg.norm(onnx_vectors, axis=1), 1.0, atol=1e-4)
    cosines = (onnx_vectors * torch_vectors).sum(axis=1)
    assert cosines.min() >= minimum, f"{embedder}: lowest cosine {cosines.min():.4f} on {passages[cosines.argmin()][:80]!r}"
    question = "How do tumour exosomes suppress T cells?"
    query_cosine = float(np.dot(onnx.embed_query(question), get_embeddings(get_settings(embedder="torch")).embed_query(question)))
    assert query_cosine >= minimum


def test_length_sorted_batches_group_short_texts_and_cover_every_text_once() -> None:
    lengths = [300, 5, 7, 256, 6, 9, 250]
    batches = length_sorted_batches(lengths, batch_tokens=600, max_batch=3)
    assert sorted(p for batch in batches for p in batch) == list(range(len(lengths)))
    assert batches == [[1, 4, 2], [5, 6], [3, 0]]
    assert all(len(batch) * max(lengths[p] for p in batch) <= 600 or len(batch) == 1 for batch in batches)


def test_index_refuses_another_embedder_and_the_given_command_reembeds_it(first_start: tuple[Path, str], tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(BUNDLED_CORPUS, corpus)
    torch_settings = get_settings(corpus=corpus, index=tmp_path / "index", embedder="torch", embedder_cache=first_start[0])
    chunks = sync_corpus(torch_settings).chunks
    int8_settings = torch_settings.model_copy(update={"embedder": "onnx-int8"})

    with pytest.raises(EmbedderMismatch) as refused:
        Index(int8_settings)
    message = str(refused.value)
    assert "EXORAG_EMBEDDER=torch" in message and "not onnx-int8" in message
    command = message.rsplit("re-embed the index: ", 1)[1]
    assert command.startswith("EXORAG_EMBEDDER=onnx-int8 exorag ingest") and command.endswith("--reembed")
    with pytest.raises(EmbedderMismatch):  # ingest without --reembed must not add int8 vectors either
        sync_corpus(int8_settings)

    words = shlex.split(command)
    variables = dict(word.split("=", 1) for word in words[: words.index("exorag")])
    env = {**os.environ, **variables, "EXORAG_EMBEDDER_CACHE": str(first_start[0]), "PYTHONPATH": str(ROOT)}
    # Serving it is refused at start, with the same message and no traceback.
    serve = subprocess.run([sys.executable, "-m", "exorag.cli", "serve", "--port", "0", "--corpus", str(corpus),
                            "--index", str(tmp_path / "index")], env=env, capture_output=True, text=True, timeout=600,
                           check=False)
    assert serve.returncode == 2 and "error:" in serve.stderr and "--reembed" in serve.stderr
    assert "Traceback" not in serve.stderr
    done = subprocess.run([sys.executable, "-m", "exorag.cli", *words[words.index("exorag") + 1 :]], env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr

    store = VectorStore(int8_settings)
    assert store.count() == chunks
    rows = store.collection.get(limit=8, include=["documents", "metadatas", "embeddings"])
    texts = [embedding_text(chunk_from_row(*row)) for row in zip(rows["ids"], rows["documents"], rows["metadatas"])]
    stored = np.asarray(rows["embeddings"])
    # int8 vectors shift a little with their batch-mates (activations are quantised per call).
    int8_cosines = (stored * np.asarray(get_embeddings(int8_settings).embed_documents(texts))).sum(axis=1)
    torch_cosines = (stored * np.asarray(get_embeddings(torch_settings).embed_documents(texts))).sum(axis=1)
    assert int8_cosines.min() > 0.98 and int8_cosines.mean() > torch_cosines.mean()
    with pytest.raises(EmbedderMismatch):
        Index(torch_settings)


def test_a_model_with_other_weights_gets_its_own_export_and_an_index_of_the_first_refuses_it(
        first_start: tuple[Path, str], tmp_path: Path) -> None:
    # A fine-tuned checkpoint: the same files and sizes as the bundled model, other weights.
    from safetensors.torch import load_file, save_file

    tuned = tmp_path / "tuned" / Path(model_path(get_settings())).name  # the same folder name, too
    shutil.copytree(model_path(get_settings()), tuned)
    weights = load_file(tuned / "model.safetensors")
    save_file({name: tensor.flip(0) if tensor.dim() else tensor for name, tensor in weights.items()},
              tuned / "model.safetensors", metadata={"format": "pt"})
    assert (tuned / "model.safetensors").stat().st_size == Path(model_path(get_settings()), "model.safetensors").stat().st_size
    bundled = get_settings(embedder="onnx", embedder_cache=first_start[0])
    assert export_folder(first_start[0], model_path(bundled)) != export_folder(first_start[0], str(tuned))

    corpus = tmp_path / "corpus"
    (corpus / "review").mkdir(parents=True)
    (corpus / "review" / "review.md").write_text("# Immune\n\nExosomal PD-L1 binds PD-1 on T cells [170].\n",
                                                 encoding="utf-8")
    settings = bundled.model_copy(update={"corpus": corpus, "index": tmp_path / "index"})
    sync_corpus(settings)
    with pytest.raises(EmbedderMismatch, match="another embedding model") as refused:
        Index(settings.model_copy(update={"embedding_model": str(tuned)}))
    assert str(tuned) in str(refused.value) and "--reembed" in str(refused.value)
    assert Index(settings).vectors.count() == 1
