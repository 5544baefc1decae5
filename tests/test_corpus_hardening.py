"""Corpus input that must not get through: links out of the corpus or looping, hidden files,
reference lines with non-web links or numbers below 1, and files above the size limit; and views
that render only http(s) links."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from exorag.config import Settings, get_settings
from exorag.ingest.loaders import LoadError, load_document
from exorag.ingest.sync import sync_corpus
from exorag.models import Answer, Evidence, Reference, Sentence
from exorag.references import load_references
from exorag.slack.blocks import answer_blocks
from exorag.store.chroma import VectorStore
from exorag.store.stats import index_stats
from ui.export import answer_markdown
from ui.render import FileLinks, Turn, evidence_panel_html

LINES = [
    {"number": 58, "citation": "Li X, et al. 2020", "url": "https://example.org/li2020"},
    {"number": 59, "citation": "Evil", "url": "javascript:alert(document.cookie)"},
    {"number": -3, "citation": "Negative"},
    {"number": 0, "citation": "Zero"},
    {"number": 60, "citation": "Data", "url": "data:text/html,<script>alert(1)</script>"},
    {"number": 2.5, "citation": "Fraction"},
]


def test_reference_lines_with_non_web_links_or_numbers_below_1_are_rejected_by_line(tmp_path: Path) -> None:
    path = tmp_path / "references.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in LINES) + "\n", encoding="utf-8")
    references, problems = load_references(path)
    assert list(references) == [58]
    assert [p.split(":")[0] for p in problems] == [f"references.jsonl line {n}" for n in (2, 3, 4, 5, 6)]
    assert "not an http(s) link" in problems[0] and "not an http(s) link" in problems[3]
    assert "greater than or equal to 1" in problems[1] and "greater than or equal to 1" in problems[2]


def test_a_reference_list_that_cannot_be_read_is_reported_and_the_papers_still_ingested(settings: Settings) -> None:
    references = settings.corpus / "references.jsonl"
    nested = "[" * 100_000 + "]" * 100_000
    references.write_text(json.dumps(LINES[0]) + "\n" + nested + "\n", encoding="utf-8")
    report = sync_corpus(settings)
    assert report.failed == [{"path": "references.jsonl", "error": "line 2: nested too deeply to be a reference"}]
    assert report.added and index_stats(settings)["chunks"] == report.added
    references.unlink()
    references.mkdir()
    report = sync_corpus(settings)
    assert report.failed == [{"path": "references.jsonl",
                              "error": "cannot be read: Is a directory; the reference list is not used"}]
    assert index_stats(settings)["chunks"] > 0


def test_every_view_renders_only_http_links(tmp_path: Path) -> None:
    hostile = Reference.model_construct(number=59, citation="Evil", url="javascript:alert(1)", doi=None)
    safe = Reference(number=58, citation="Li", url="https://example.org/li")
    evidence = Evidence(id="e1", chunk_id="c1", source_label="Review", source_path="review/r.md", refs=[58, 59],
                        text="PD-L1 binds PD-1 [58, 59].")
    result = Answer(question="q", answer="PD-L1 binds PD-1 [58, 59].", evidence=[evidence], references=[safe, hostile],
                    sentences=[Sentence(text="PD-L1 binds PD-1.", citation="[58, 59]", refs=[58, 59], evidence_ids=["e1"])])
    panel = evidence_panel_html([Turn("q", result)], 0, 0, FileLinks(tmp_path))
    slack = json.dumps(answer_blocks(result, "a1"))
    markdown = answer_markdown(result)
    for rendered in (panel, slack, markdown):
        assert "javascript:" not in rendered and "https://example.org/li" in rendered


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    corpus = tmp_path / "corpus"
    (corpus / "review").mkdir(parents=True)
    (corpus / "literature").mkdir()
    (corpus / "review" / "review.md").write_text("# Evasion\n\nExosomal PD-L1 blunts T cells [113].\n")
    (tmp_path / "outside.txt").write_text("Secret host configuration outside the corpus.\n")
    return get_settings(corpus=corpus, index=tmp_path / "index")


def test_links_leading_out_of_the_corpus_are_skipped_reported_and_keep_what_the_index_had(settings: Settings) -> None:
    literature = settings.corpus / "literature"
    (literature / "113_outside.txt").write_text("Reference 113 as it first was: exosomes carry PD-L1.\n")
    (literature / "114_inside.txt").symlink_to(settings.corpus / "review" / "review.md")
    sync_corpus(settings)
    (literature / "113_outside.txt").unlink()
    (literature / "113_outside.txt").symlink_to(settings.corpus.parent / "outside.txt")
    report = sync_corpus(settings)
    assert report.failed == [{"path": "literature/113_outside.txt",
                              "error": "a link to a file outside the corpus folder; skipped "
                                       "(copy the file into the corpus to ingest it)"}]
    # A failed file keeps what the index had of it, as an unreadable one does; nothing outside is read.
    texts = {chunk.source_path: chunk.text for chunk in VectorStore(settings).all_chunks()}
    assert set(texts) == {"review/review.md", "literature/113_outside.txt", "literature/114_inside.txt"}
    assert texts["literature/113_outside.txt"].startswith("Reference 113 as it first was")
    assert not any("Secret host" in text for text in texts.values())
    assert report.removed == 0


def test_a_linked_folder_is_reported_not_skipped_in_silence(settings: Settings) -> None:
    shared = settings.corpus / "shared-papers"
    shared.mkdir()
    (shared / "115_kept.txt").write_text("Exosomes carry integrins.\n")
    (settings.corpus / "literature" / "batch").symlink_to(shared, target_is_directory=True)
    report = sync_corpus(settings)
    assert report.failed == [{"path": "literature/batch", "error": "a link to a folder; its files are not read "
                                                                   "(copy the folder in, or link its files one by one)"}]
    assert report.files == 1


def test_a_file_no_loader_can_read_fails_alone_and_keeps_what_the_index_had(settings: Settings) -> None:
    literature = settings.corpus / "literature"
    (literature / "12_notes.md").write_text("# Exosomes and VEGF\n\nTumour exosomes carry VEGF.\n")
    sync_corpus(settings)
    (literature / "12_notes.md").write_text("# Exosomes and VEGF\n\n## Results\n")  # cut down to its headings
    (literature / "13_deep.html").write_text("<html><body>" + "<div>" * 5000 + "Deep." + "</div>" * 5000 + "</body></html>")
    (literature / "14_ok.txt").write_text("Tumour exosomes promote angiogenesis by delivering VEGF.\n")
    with open(bytes(literature) + b"/15_caf\xe9.txt", "wb") as latin1_name:
        latin1_name.write(b"Exosomes carry PD-L1.\n")
    report = sync_corpus(settings)
    assert sorted((entry["path"], entry["error"]) for entry in report.failed) == [
        ("literature/12_notes.md", "no text outside its headings"),
        ("literature/13_deep.html", "elements nested too deeply to read (a thousand levels or more)"),
        ("literature/15_caf\\xe9.txt", "the file name is not valid UTF-8; rename the file to ingest it"),
    ]
    texts = {chunk.source_path: chunk.text for chunk in VectorStore(settings).all_chunks()}
    assert set(texts) == {"review/review.md", "literature/12_notes.md", "literature/14_ok.txt"}
    assert texts["literature/12_notes.md"] == "Tumour exosomes carry VEGF."


def test_hidden_files_are_not_sources_and_a_looping_link_is_reported_without_stopping_the_rest(settings: Settings) -> None:
    literature = settings.corpus / "literature"
    (literature / "113_li.txt").write_text("Exosomes carry PD-L1 to lymph nodes.\n")
    # What macOS leaves beside each file on a shared drive, and an editor's folder.
    (literature / "._113_li.txt").write_bytes(b"\x00\x05\x16\x07Mac OS X resource fork")
    (literature / ".cache").mkdir()
    (literature / ".cache" / "draft.txt").write_text("An unfinished note.\n")
    (literature / "115_loop.txt").symlink_to(literature / "115_loop.txt")
    report = sync_corpus(settings)
    assert [entry["path"] for entry in report.failed] == ["literature/115_loop.txt"]
    assert "symbolic links" in report.failed[0]["error"]
    paths = {chunk.source_path for chunk in VectorStore(settings).all_chunks()}
    assert paths == {"review/review.md", "literature/113_li.txt"}


def test_the_file_size_limit_is_50_mb_and_its_refusal_says_how_to_raise_it(tmp_path: Path) -> None:
    assert Settings().max_file_mb == 50
    big = tmp_path / "big.txt"
    big.write_text("exosomes " * 20_000)
    with pytest.raises(LoadError, match=r"the limit is 0\.1 MB: set EXORAG_MAX_FILE_MB to a larger number"):
        load_document(big, max_bytes=100_000)
