"""Keeping a real Chroma index in step with a corpus folder: no-op re-ingest, edits, removals, a
SIGKILL mid-ingest, two ingests at once, and the lexical index's generation stamp.

Uses the real embedding model (loaded once per process) and persistent Chroma in temp folders.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from langchain_core.embeddings import Embeddings
from typer.testing import CliRunner

from exorag.chain import AnswerOptions, answer, reset_pipelines
from exorag.citations import MAX_REFERENCE_NUMBER
from exorag.cli import app
from exorag.config import Settings, get_settings
from exorag.embeddings import get_embeddings
from exorag.ingest.loaders import load_document
from exorag.ingest.sync import chunk_sources, sync_corpus
from exorag.models import Chunk
from exorag.retrieve import Retriever
from exorag.store.chroma import StoreUnavailable, VectorStore
from exorag.store.index import Index, ingest_lock, lexical_folder
from exorag.store.lexical import FORMAT, LexicalIndex
from exorag.store.stats import index_stats
from exorag.text import TOKENIZER_VERSION

ROOT = Path(__file__).resolve().parents[1]
EXORAG = Path(sys.executable).with_name("exorag")

REVIEW_MD = """# Exosomes in cancer

## Hypoxia

Hypoxic breast cancer cells release three to ten times more exosomes, and their cargo changes with
HIF-1 activation [13-16, 14]. Hypoxic HCC cells secrete exosomes rich in miR-1273f [58].

## Immune evasion

Tumour cells expressing PD-L1 release exosomes coated with this ligand, which bind PD-1 on T cells and
suppress their activation [170-172]. Exosomal TGF-beta promotes regulatory T cells [20, 175].
"""

LI_2020 = """Exosomal miR-1273f drives HCC progression

Hypoxic hepatocellular carcinoma cells secrete exosomes that carry miR-1273f. The microRNA activates
Wnt signalling in recipient cells and drives their proliferation and motility in culture and in mice.

In patients, high serum levels of exosomal miR-1273f went with larger tumours and shorter survival,
which makes the vesicles a candidate marker of aggressive disease in the clinic.
"""

NOTES = "Lab notes on exosome isolation\n\nUltracentrifugation at 100,000 g pelleted the vesicles from the medium.\n"


def make_corpus(folder: Path) -> Path:
    (folder / "review").mkdir(parents=True)
    (folder / "literature").mkdir()
    (folder / "review" / "review.md").write_text(REVIEW_MD, encoding="utf-8")
    (folder / "literature" / "0058-li2020.txt").write_text(LI_2020, encoding="utf-8")
    (folder / "literature" / "notes.txt").write_text(NOTES, encoding="utf-8")
    # the same text at another path is another source, not a clash of chunk ids
    (folder / "literature" / "notes-copy.txt").write_text(NOTES, encoding="utf-8")
    return folder


def tiny_papers(folder: Path, count: int, first: int = 1, variant: str = "") -> None:
    """``count`` one-sentence literature files; each names a word of its own (``marker12word``)."""
    literature = folder / "literature"
    literature.mkdir(parents=True, exist_ok=True)
    for number in range(first, first + count):
        text = f"Marker{number}word exosomes carry {variant}cargo.\n"
        (literature / f"{number:04d}-paper.txt").write_text(text, encoding="utf-8")


def ingested_tiny_papers(tmp_path: Path, count: int) -> Settings:
    """Settings of an index holding ``count`` tiny papers, with no pipeline loaded yet."""
    corpus = tmp_path / "corpus"
    tiny_papers(corpus, count)
    settings = get_settings(corpus=corpus, index=tmp_path / "index")
    sync_corpus(settings)
    reset_pipelines()
    return settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return get_settings(corpus=make_corpus(tmp_path / "corpus"), index=tmp_path / "index")


def stored(settings: Settings) -> dict[str, tuple[Chunk, np.ndarray]]:
    """Every chunk in the index with its embedding."""
    vectors = Index(settings).vectors
    ids = vectors.collection.get(include=[])["ids"]
    return vectors.get(ids)


def assert_index_matches_corpus(settings: Settings) -> dict[str, Chunk]:
    """The index holds exactly the chunks the corpus produces now (ids, text and every metadata
    field), each once, and the lexical index covers the same chunks at the same generation."""
    produced, _ = chunk_sources(settings)
    expected = {chunk.chunk_id: chunk for chunks in produced.values() for chunk in chunks}
    index = Index(settings)
    ids = index.vectors.collection.get(include=[])["ids"]
    assert len(ids) == len(set(ids)), "duplicate ids"
    rows = {chunk_id: chunk for chunk_id, (chunk, _) in index.vectors.get(ids).items()}
    assert set(rows) == set(expected), "orphan or missing chunks"
    assert rows == expected
    for chunk in rows.values():  # and, independently of the chunker, the text is in its source file
        source = load_document(settings.corpus / chunk.source_path).text
        assert " ".join(chunk.text.split()) in " ".join(source.split())
    placements = Counter((c.source_path, c.char_start, c.char_end) for c in rows.values())
    assert max(placements.values(), default=1) == 1, "the same passage is stored twice"
    assert set(index.lexical.ids) == set(rows) and len(index.lexical.ids) == len(rows)
    assert index.lexical.generation == index.vectors.generation != ""
    return rows


@pytest.fixture
def embedded_texts(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The texts that the embedding model embeds as documents during the test (a spy, not a stub)."""
    seen: list[str] = []
    model = type(get_embeddings(get_settings()))  # the configured embedder's class
    original = model.embed_documents

    def counting(self: Embeddings, texts: list[str]) -> list[list[float]]:
        seen.extend(texts)
        return original(self, texts)

    monkeypatch.setattr(model, "embed_documents", counting)
    return seen


def test_reingest_of_unchanged_corpus_adds_nothing(settings: Settings, embedded_texts: list[str]) -> None:
    first = sync_corpus(settings)
    assert first.failed == [] and first.files == 4
    assert first.added == first.chunks == len(embedded_texts) > 0
    before = stored(settings)
    assert set(before) == set(assert_index_matches_corpus(settings))

    embedded_texts.clear()
    second = sync_corpus(settings)
    assert second.to_json() == {
        "files": 4,
        "chunks": first.chunks,
        "added": 0,
        "unchanged": first.chunks,
        "removed": 0,
        "failed": [],
        "suspect": [],
    }
    assert embedded_texts == []  # nothing was embedded a second time
    after = stored(settings)  # same ids, same text and metadata, same vectors
    assert {i: chunk for i, (chunk, _) in after.items()} == {i: chunk for i, (chunk, _) in before.items()}
    assert all(np.array_equal(vector, before[i][1]) for i, (_, vector) in after.items())
    assert_index_matches_corpus(settings)


def test_edited_file_has_its_old_chunks_replaced(settings: Settings) -> None:
    sync_corpus(settings)
    paper = settings.corpus / "literature" / "0058-li2020.txt"
    paper.write_text(
        LI_2020.replace("went with larger tumours", "predicted early relapse and larger tumours"),
        encoding="utf-8",
    )

    report = sync_corpus(settings)
    assert report.added >= 1 and report.removed >= 1 and report.failed == []
    rows = assert_index_matches_corpus(settings)
    texts = [chunk.text for chunk in rows.values()]
    assert not any("went with larger tumours" in text for text in texts)
    assert sum("predicted early relapse" in text for text in texts) == 1
    assert Index(settings).vectors.count() == report.chunks
    hits = Index(settings).lexical.search("relapse", 5)
    assert [rows[chunk_id].source_path for chunk_id, _ in hits] == ["literature/0058-li2020.txt"]


def test_edit_that_moves_text_refreshes_offsets_and_sections(
    settings: Settings,
) -> None:
    """Unchanged sentences of an edited file must not keep the offsets or section of the old file."""
    sync_corpus(settings)
    review = settings.corpus / "review" / "review.md"
    edited = REVIEW_MD.replace("## Immune evasion", "## Immune escape").replace(
        "# Exosomes in cancer\n",
        "# Exosomes in cancer\n\nA new opening paragraph about vesicles and tumours.\n",
    )
    review.write_text(edited, encoding="utf-8")

    sync_corpus(settings)
    rows = assert_index_matches_corpus(settings)
    (pd_l1,) = [c for c in rows.values() if "[170-172]" in c.text]
    assert pd_l1.section == "Immune escape"
    assert edited[pd_l1.char_start :].startswith("Tumour cells expressing PD-L1")


def test_removed_file_has_its_chunks_deleted(settings: Settings) -> None:
    sync_corpus(settings)
    notes_ids = {cid for cid, (c, _) in stored(settings).items() if c.source_path == "literature/notes.txt"}
    assert notes_ids
    (settings.corpus / "literature" / "notes.txt").unlink()

    report = sync_corpus(settings)
    assert report.removed == len(notes_ids) and report.added == 0 and report.files == 3
    rows = assert_index_matches_corpus(settings)
    assert not notes_ids & set(rows)
    assert "literature/notes.txt" not in {source["path"] for source in index_stats(settings)["sources"]}
    assert any(c.source_path == "literature/notes-copy.txt" for c in rows.values())


def test_a_bracketed_number_no_index_can_store_is_read_as_no_citation(settings: Settings) -> None:
    """OCR noise in the review ("[9223372036854775808]", past 64 bits) once made every later
    command fail on the index; it is now text, and the passage keeps its real citation."""
    review = settings.corpus / "review" / "review.md"
    review.write_text(REVIEW_MD + "\nThe scan reads [9223372036854775808] here, as cited before [58].\n", encoding="utf-8")
    sync_corpus(settings)
    rows = assert_index_matches_corpus(settings)
    noisy = [c for c in rows.values() if "9223372036854775808" in c.text]
    assert noisy and all(58 in c.refs and max(c.refs) <= MAX_REFERENCE_NUMBER for c in noisy)
    result = CliRunner().invoke(app, ["stats", "--json", "--index", str(settings.index)])
    assert result.exit_code == 0, result.output


def test_lexical_index_is_rebuilt_when_missing_or_stale(settings: Settings) -> None:
    sync_corpus(settings)
    folder = lexical_folder(settings)
    shutil.rmtree(folder)
    rebuilt = Index(settings)
    assert folder.is_dir()
    assert set(rebuilt.lexical.ids) == set(stored(settings))
    assert rebuilt.lexical.search("ultracentrifugation", 5)

    # a sync that stopped after stamping a new generation leaves the saved lexical index stale
    saved_generation = rebuilt.lexical.generation
    rebuilt.vectors.new_generation()
    fresh = Index(settings)
    assert fresh.lexical.generation == fresh.vectors.generation != saved_generation
    assert_index_matches_corpus(settings)

    # an index saved by an older tokenizer is rebuilt with today's tokens
    meta_path = folder / "exorag_meta.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta_path.write_text(json.dumps({**meta, "tokenizer": TOKENIZER_VERSION - 1}), encoding="utf-8")
    assert LexicalIndex.load(folder) is None
    assert Index(settings).lexical.search("ultracentrifugation", 5)
    assert json.loads(meta_path.read_text(encoding="utf-8"))["tokenizer"] == TOKENIZER_VERSION

    # so is one saved before chunks' places in their documents were kept (format 1, no "sources")
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta_path.write_text(json.dumps({k: v for k, v in meta.items() if k not in ("format", "sources", "starts")}), encoding="utf-8")
    assert LexicalIndex.load(folder) is None
    places = Index(settings).lexical
    assert places.sources.tolist() and set(places.sources.tolist()) == {c.source_id for c in Index(settings).vectors.all_chunks()}
    assert json.loads(meta_path.read_text(encoding="utf-8"))["format"] == FORMAT


def start_ingest(settings: Settings) -> subprocess.Popen:
    return subprocess.Popen(
        [
            str(EXORAG),
            "ingest",
            "--corpus",
            str(settings.corpus),
            "--index",
            str(settings.index),
            "--json",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=settings.corpus.parent,
    )


def wait_for(condition, process: subprocess.Popen, timeout: float = 240.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert process.poll() is None, f"ingest ended early: {process.communicate()}"
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


COUNT_SCRIPT = """
import sys, time, chromadb
from chromadb.config import Settings
client = chromadb.PersistentClient(path=sys.argv[1], settings=Settings(anonymized_telemetry=False))
while True:
    try:
        print(client.get_collection("exorag").count(), flush=True)
    except Exception:
        print(0, flush=True)
    time.sleep(0.1)
"""


def test_killed_ingest_is_repaired_by_the_next_ingest(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    tiny_papers(corpus, 20)
    settings = get_settings(corpus=corpus, index=tmp_path / "index")
    # other processes write this index, so this process opens it only once they have ended
    first = start_ingest(settings)
    assert first.wait(timeout=300) == 0, first.communicate()
    # the 20 papers change and 380 arrive: two embedding batches to add, 20 orphans to delete
    tiny_papers(corpus, 400, variant="new ")

    ingest = start_ingest(settings)
    counter = subprocess.Popen(
        [sys.executable, "-c", COUNT_SCRIPT, str(settings.index / "chroma")],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        while int(counter.stdout.readline()) <= 20:  # wait until some new chunks are in
            assert ingest.poll() is None, f"ingest ended before it could be killed: {ingest.communicate()}"
        ingest.send_signal(signal.SIGKILL)
        assert ingest.wait() == -signal.SIGKILL
    finally:
        counter.kill()
        counter.wait()
    wanted = sum(len(chunks) for chunks in chunk_sources(settings)[0].values())
    count_at_kill = VectorStore(settings).count()
    assert 20 < count_at_kill < wanted + 20, "the kill did not land mid-ingest"

    report = sync_corpus(settings)
    assert report.failed == [] and report.chunks == wanted
    assert report.added == wanted - (count_at_kill - 20) and report.removed == 20
    rows = assert_index_matches_corpus(settings)
    assert len(rows) == wanted == index_stats(settings)["chunks"]
    assert all("new cargo" in chunk.text for chunk in rows.values())
    hits = Retriever(Index(settings), get_embeddings(settings).embed_query).search("Marker123word", k=3)
    assert hits[0].chunk.source_path == "literature/0123-paper.txt"


def test_second_ingest_at_once_fails_fast_and_the_first_completes(
    tmp_path: Path,
) -> None:
    corpus = tmp_path / "corpus"
    tiny_papers(corpus, 150)
    settings = get_settings(corpus=corpus, index=tmp_path / "index")
    first = start_ingest(settings)
    wait_for(lambda: (settings.index / "chroma" / "chroma.sqlite3").exists(), first)  # it holds the lock

    second = CliRunner().invoke(
        app,
        ["ingest", "--corpus", str(corpus), "--index", str(settings.index), "--json"],
    )
    assert first.poll() is None, "the second ingest waited for the first"
    assert second.exit_code == 2
    assert "another ingest is running" in second.output and str(settings.index) in second.output

    out, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    assert '"added": 150' in out
    assert_index_matches_corpus(settings)


def test_a_reader_never_writes_the_lexical_index_while_an_ingest_holds_the_lock(settings: Settings) -> None:
    sync_corpus(settings)
    folder = lexical_folder(settings)
    saved = (folder / "exorag_meta.json").read_text(encoding="utf-8")
    with ingest_lock(settings):  # as an ingest holds it for its whole run
        Index(settings).vectors.new_generation()  # the ingest has begun: the saved lexical index is stale
        reader = Index(settings)
        assert reader.lexical.generation == reader.vectors.generation  # built for itself, in memory
        assert (folder / "exorag_meta.json").read_text(encoding="utf-8") == saved
    assert not [p.name for p in settings.index.iterdir() if p.name.startswith(".lexical")]
    after = Index(settings)  # the lock is free again: the reader rebuilds and saves
    assert json.loads((folder / "exorag_meta.json").read_text(encoding="utf-8"))["generation"] == after.vectors.generation


def test_asking_in_a_loop_during_an_ingest_always_answers_and_leaves_one_current_lexical_index(tmp_path: Path) -> None:
    settings = ingested_tiny_papers(tmp_path, 30)
    corpus = settings.corpus
    tiny_papers(corpus, 300, first=31)  # about ten seconds of embedding
    ingest = ThreadPoolExecutor(max_workers=1).submit(sync_corpus, settings)
    answers = []
    while not ingest.done():
        answers.append(answer("What do Marker7word exosomes carry?", AnswerOptions(), settings))
    report = ingest.result()
    assert report.added == 300 and not report.failed
    assert len(answers) >= 3 and all(not a.abstained and "cargo" in a.answer for a in answers)
    folder = lexical_folder(settings)
    saved = LexicalIndex.load(folder)
    assert saved is not None and saved.generation == VectorStore(settings).generation
    assert len(saved) == 330 == VectorStore(settings).count()
    assert not [p.name for p in settings.index.iterdir() if p.name.startswith(".lexical")]
    after = answer("What do Marker300word exosomes carry?", AnswerOptions(), settings)
    assert "literature/0300-paper.txt" in {e.source_path for e in after.evidence}
    reset_pipelines()


def test_a_process_answering_reads_what_an_ingest_in_another_process_added_and_removed(tmp_path: Path) -> None:
    # `exorag serve` or `exorag api` running while `exorag ingest` runs in a terminal.
    settings = ingested_tiny_papers(tmp_path, 30)
    corpus = settings.corpus
    assert "literature/0007-paper.txt" in {e.source_path for e in answer("What do Marker7word exosomes carry?", settings=settings).evidence}
    tiny_papers(corpus, 1, first=31)
    (corpus / "literature" / "0007-paper.txt").unlink()
    ingest = start_ingest(settings)
    stdout, stderr = ingest.communicate(timeout=300)
    assert ingest.returncode == 0, stderr
    assert json.loads(stdout)["added"] == 1 and json.loads(stdout)["removed"] == 1
    added = answer("What do Marker31word exosomes carry?", settings=settings)
    assert "literature/0031-paper.txt" in {e.source_path for e in added.evidence}
    removed = answer("What do Marker7word exosomes carry?", settings=settings)
    assert "literature/0007-paper.txt" not in {e.source_path for e in removed.evidence}
    reset_pipelines()


def test_a_reader_that_cannot_save_the_rebuilt_lexical_index_answers_from_memory_and_leaves_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = ingested_tiny_papers(tmp_path, 5)
    shutil.rmtree(lexical_folder(settings))  # stale, as after a killed ingest

    def disk_full(self: LexicalIndex, folder: Path) -> None:
        staging = folder.parent / ".lexical-half-written"
        staging.mkdir()
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(LexicalIndex, "save", disk_full)
    result = answer("What do Marker3word exosomes carry?", settings=settings)
    assert not result.abstained and "literature/0003-paper.txt" in {e.source_path for e in result.evidence}
    reset_pipelines()


def test_an_index_path_that_is_a_file_is_named_not_a_traceback(tmp_path: Path) -> None:
    a_file = tmp_path / "index"
    a_file.write_text("not an index", encoding="utf-8")
    corpus = tmp_path / "corpus"
    tiny_papers(corpus, 1)
    for args in (["ingest", "--corpus", str(corpus)], ["ask", "What do Marker1word exosomes carry?"], ["stats"]):
        result = CliRunner().invoke(app, [*args, "--index", str(a_file)])
        assert result.exit_code == 2, result.output
        assert f"{a_file}: a file, not an index folder" in " ".join(result.output.split())
    assert a_file.read_text(encoding="utf-8") == "not an index"


def test_the_lexical_index_leaves_no_staging_folder_when_a_save_fails(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    sync_corpus(settings)
    lexical = Index(settings).lexical
    import bm25s

    def disk_full(self, folder: str, **kwargs) -> None:
        (Path(folder) / "params.index.json").write_text("{", encoding="utf-8")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(bm25s.BM25, "save", disk_full)
    with pytest.raises(OSError, match="No space left"):
        lexical.save(lexical_folder(settings))
    assert [p.name for p in settings.index.iterdir() if p.name.startswith(".lexical")] == []
    assert LexicalIndex.load(lexical_folder(settings)) is not None  # the saved one is untouched


def test_a_reembed_stopped_halfway_leaves_the_live_index_whole_and_the_next_one_completes(tmp_path: Path) -> None:
    settings = ingested_tiny_papers(tmp_path, 300)  # two batches

    def stopped(stage: str, done: int, total: int) -> None:  # Ctrl-C after the first batch is written
        if stage == "embedding" and done:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        sync_corpus(settings, progress=stopped, reembed=True)
    assert VectorStore(settings).count() == 300  # readers still have every chunk
    assert "literature/0250-paper.txt" in {e.source_path for e in answer("What do Marker250word exosomes carry?",
                                                                          settings=settings).evidence}
    report = sync_corpus(settings, reembed=True)
    assert report.added == 300 and VectorStore(settings).count() == 300
    names = {collection.name for collection in VectorStore(settings).client.list_collections()}
    assert names == {"exorag"}  # the staging collection is gone
    assert LexicalIndex.load(lexical_folder(settings)).generation == VectorStore(settings).generation
    assert not (settings.index / "lexical-exorag-reembed").exists()
    reset_pipelines()


def test_nearest_chunks_of_an_empty_and_of_a_small_collection(settings: Settings) -> None:
    vectors = Index(settings).vectors
    question = np.asarray(get_embeddings(settings).embed_query("exosome secretion"), dtype=np.float32)
    assert vectors.query(question, 10) == []

    sync_corpus(settings)
    everything = stored(settings)
    nearest = vectors.query(question, len(everything) + 50)  # more than the collection holds
    assert {chunk.chunk_id for chunk, _, _ in nearest} == set(everything)
    cosines = [cosine for _, cosine, _ in nearest]
    assert cosines == sorted(cosines, reverse=True)
    for chunk, cosine, embedding in nearest:
        assert embedding.dtype == np.float32 and embedding.shape == question.shape
        assert np.allclose(embedding, everything[chunk.chunk_id][1])
        assert cosine == pytest.approx(float(embedding @ question), abs=1e-4)


def test_a_failed_write_stops_the_ingest_with_its_error_and_the_next_ingest_completes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Batches are written on a thread of their own while the next one is embedded: a write that
    # fails must still end the ingest with its error, not be lost on that thread.
    corpus = make_corpus(tmp_path / "corpus")
    tiny_papers(corpus, 600)  # three batches of 256
    settings = get_settings(corpus=corpus, index=tmp_path / "index")
    original = VectorStore.add
    writes: list[int] = []

    def failing_second(self: VectorStore, chunks, vectors) -> None:
        writes.append(len(chunks))
        if len(writes) == 2:
            raise OSError("disk full")
        original(self, chunks, vectors)

    monkeypatch.setattr(VectorStore, "add", failing_second)
    with pytest.raises(StoreUnavailable, match="disk full") as failed:
        sync_corpus(settings)
    assert "run the ingest again" in str(failed.value)
    assert len(writes) == 2  # nothing was written after the failure
    monkeypatch.setattr(VectorStore, "add", original)
    report = sync_corpus(settings)
    assert report.failed == [] and report.added == report.chunks - 256
    assert_index_matches_corpus(settings)


def test_a_journal_papers_printed_page_is_what_its_passages_cite(tmp_path: Path) -> None:
    # A journal article printed as pp. 1245-1246 was cited "p. 2", its place in the file.
    from pdf_factory import make_pdf
    from pypdf import PdfWriter

    corpus = tmp_path / "corpus"
    (corpus / "review").mkdir(parents=True)
    (corpus / "review" / "review.md").write_text(REVIEW_MD, encoding="utf-8")
    _, methods, patients = LI_2020.split("\n\n")
    plain = make_pdf(tmp_path / "plain.pdf", [["# Exosomal miR-1273f drives HCC progression", *[methods] * 4],
                                               ["# Patients", *[patients] * 4]])
    writer = PdfWriter(clone_from=plain)
    writer.set_page_label(0, 1, style="/D", start=1245)
    (corpus / "literature").mkdir()
    writer.write(corpus / "literature" / "58_li2020.pdf")
    settings = get_settings(corpus=corpus, index=tmp_path / "index")
    sync_corpus(settings)
    reset_pipelines()
    # the PDF's own page stays what links open; the printed one is what a reader cites
    pages = {(c.page, c.page_label) for c in VectorStore(settings).all_chunks() if c.source_path.endswith(".pdf")}
    assert pages == {(1, "1245"), (2, "1246")}
    result = answer("Did high serum exosomal miR-1273f go with shorter survival in patients?",
                    AnswerOptions(source_kind="literature"), settings)
    cited = [e for e in result.evidence if e.source_path == "literature/58_li2020.pdf" and e.page == 2]
    assert cited and cited[0].page_label == "1246" and cited[0].source_label.endswith("p. 1246")
