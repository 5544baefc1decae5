"""The baseline RAG: its own persisted Chroma collection, built once, rebuilt when the corpus changes."""

from __future__ import annotations

import json
import shutil

import pytest

from evals.baseline import CHUNK_SIZE, FOLDER, MANIFEST, BaselineRAG
from exorag.citations import cited_numbers
from exorag.config import get_settings


@pytest.fixture()
def corpus(indexed_settings, tmp_path):
    target = tmp_path / "corpus"
    shutil.copytree(indexed_settings.corpus, target)
    return target


def test_baseline_answers_from_four_plain_chunks_with_their_printed_refs(corpus, tmp_path):
    settings = get_settings(corpus=corpus, index=tmp_path / "index")
    rag = BaselineRAG(settings)
    answer = rag.answer("How do tumour exosomes with PD-L1 suppress T cells?")
    assert len(answer.evidence) == 4
    for evidence in answer.evidence:
        assert len(evidence.text) <= CHUNK_SIZE
        assert set(evidence.refs) == cited_numbers(evidence.text)
    assert any({170, 171, 172} <= set(evidence.refs) for evidence in answer.evidence)
    assert not answer.abstained and {170, 171, 172} & {n for s in answer.sentences for n in s.refs}
    cited = {n for sentence in answer.sentences for n in sentence.refs}
    assert cited <= {n for evidence in answer.evidence for n in evidence.refs}
    assert answer.timings_ms["total"] >= answer.timings_ms["retrieve"] > 0


def test_the_baseline_collection_is_reused_until_the_corpus_changes(corpus, tmp_path):
    settings = get_settings(corpus=corpus, index=tmp_path / "index")
    BaselineRAG(settings).store  # noqa: B018 - opening builds the collection
    manifest = tmp_path / "index" / FOLDER / MANIFEST
    first = json.loads(manifest.read_text())
    built_at = manifest.stat().st_mtime_ns
    assert first["chunks"] > 0

    BaselineRAG(settings).store  # noqa: B018
    assert manifest.stat().st_mtime_ns == built_at  # unchanged corpus: not rebuilt

    (corpus / "literature").mkdir(exist_ok=True)
    (corpus / "literature" / "0901_smith2020.txt").write_text(
        "Smith and colleagues found that exosomal galectin-9 from nasopharyngeal carcinoma exhausts CD8 T cells."
    )
    rag = BaselineRAG(settings)
    evidence = rag.retrieve(rag.embed_texts(["Which exosomal protein exhausts CD8 T cells in nasopharyngeal carcinoma?"])[0])
    assert json.loads(manifest.read_text())["chunks"] == first["chunks"] + 1
    assert evidence[0].refs == [901] and evidence[0].source_kind == "literature"
