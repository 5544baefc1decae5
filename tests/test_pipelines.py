"""The plain pipeline (the baseline): exorag's answer path with LangChain's character splitter,
Chroma top-4 similarity and no answerability checks, in its own collection synced with the corpus."""

from __future__ import annotations

import shutil

import pytest

from exorag.chain import answer, get_pipeline
from exorag.citations import cited_numbers
from exorag.config import get_settings
from exorag.pipelines import PLAIN, ingest


@pytest.fixture()
def corpus(indexed_settings, tmp_path):
    target = tmp_path / "corpus"
    shutil.copytree(indexed_settings.corpus, target)
    return target


def test_plain_pipeline_answers_from_four_character_chunks_with_their_printed_refs(corpus, tmp_path):
    settings = get_settings(corpus=corpus, index=tmp_path / "index")
    assert ingest(settings, PLAIN).chunks > 0
    result = answer("How do tumour exosomes with PD-L1 suppress T cells?", None, settings, PLAIN)
    assert len(result.evidence) == 4
    for evidence in result.evidence:
        assert len(evidence.text) <= 1000
        assert set(evidence.refs) == cited_numbers(evidence.text)
    assert any({170, 171, 172} <= set(evidence.refs) for evidence in result.evidence)
    assert not result.abstained and {170, 171, 172} & {n for s in result.sentences for n in s.refs}
    cited = {n for sentence in result.sentences for n in sentence.refs}
    assert cited <= {n for evidence in result.evidence for n in evidence.refs}
    assert result.timings_ms["total"] >= result.timings_ms["retrieve"] > 0


def test_plain_collection_is_synced_with_the_corpus_beside_exorags(corpus, tmp_path):
    settings = get_settings(corpus=corpus, index=tmp_path / "index")
    first = ingest(settings, PLAIN)
    assert first.added == first.chunks > 0
    again = ingest(settings, PLAIN)
    assert again.added == 0 and again.unchanged == first.chunks  # unchanged corpus: nothing embedded

    (corpus / "literature").mkdir(exist_ok=True)
    (corpus / "literature" / "0901_smith2020.txt").write_text(
        "Smith and colleagues found that exosomal galectin-9 from nasopharyngeal carcinoma exhausts CD8 T cells."
    )
    assert ingest(settings, PLAIN).chunks == first.chunks + 1
    hits = get_pipeline(settings, PLAIN).retriever.search(
        "Which exosomal protein exhausts CD8 T cells in nasopharyngeal carcinoma?", 4)
    assert hits[0].chunk.refs == [901] and hits[0].chunk.source_kind == "literature"
    assert not (tmp_path / "index" / "lexical").exists()  # exorag's own index was not touched


def test_the_plain_collection_is_rebuilt_not_refused_when_the_embedder_changes(corpus, tmp_path):
    settings = get_settings(corpus=corpus, index=tmp_path / "index", embedder="torch")
    chunks = ingest(settings, PLAIN).chunks
    report = ingest(settings.model_copy(update={"embedder": "onnx"}), PLAIN)
    assert report.added == chunks and report.chunks == chunks
