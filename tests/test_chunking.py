"""Chunking that respects the document: sections, sentence and citation boundaries, refs, table rows,
metadata and stable ids, on the bundled review and on generated documents."""

from __future__ import annotations

import itertools
import json
import os
import random
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pdf_factory import make_pdf

from exorag.citations import cited_numbers, find_citations
from exorag.ingest.chunking import MAX_PIECE_CHARACTERS, MAX_PIECE_WORDS, chunk_document
from exorag.ingest.loaders import LoadedDocument, load_document
from exorag.ingest.loaders.base import Block
from exorag.models import Chunk
from exorag.refs.corpus import reference_number_of

ROOT = Path(__file__).resolve().parents[1]
REVIEW = ROOT / "corpus" / "review" / "review-analysis.txt"
REVIEW_PATH = "review/review-analysis.txt"


def chunk_file(path: Path, relative: str, kind: str = "review", **options: int) -> tuple[LoadedDocument, list[Chunk]]:
    document = load_document(path)
    return document, chunk_document(document, relative, kind, "source-id", **options)


def squeeze(text: str) -> str:
    return " ".join(text.split())


def heading_before(document: LoadedDocument, offset: int) -> str | None:
    headings = [b for b in document.blocks if b.kind == "heading" and b.end <= offset]
    return squeeze(document.block_text(headings[-1])) if headings else None


def assert_brackets_whole(chunk: Chunk) -> None:
    """Every '[' in the chunk is closed by a ']' before the next '[' (and no ']' comes unopened)."""
    depth = 0
    for character in chunk.text:
        if character == "[":
            assert depth == 0, chunk.text
            depth = 1
        elif character == "]":
            assert depth == 1, chunk.text
            depth = 0
    assert depth == 0, chunk.text


def assert_offsets_locate_text(document: LoadedDocument, chunk: Chunk) -> None:
    """The chunk is the source text between char_start and char_end (up to whitespace)."""
    assert 0 <= chunk.char_start < chunk.char_end <= len(document.text)
    assert squeeze(document.text[chunk.char_start : chunk.char_end]) == squeeze(chunk.text)


@pytest.fixture(scope="module")
def review() -> tuple[LoadedDocument, list[Chunk]]:
    return chunk_file(REVIEW, REVIEW_PATH)


# --- The bundled review ----------------------------------------------------------------------------


def test_review_headings_become_the_section_of_the_chunks_below_them(review) -> None:
    document, chunks = review
    for chunk in chunks:
        assert chunk.section == heading_before(document, chunk.char_start)
    by_citation = {
        citation: next(c.section for c in chunks if citation in c.text)
        for citation in ("[170-172]", "[59, 61]", "[58]")
    }
    assert by_citation == {
        "[170-172]": "PD-L1 Exosomes Blunt T-cell Activity",
        "[59, 61]": "EGFRvIII Transfer in Glioblastoma",
        "[58]": "Hypoxia-Driven Exosomes in HCC Progression",
    }
    headings = {squeeze(document.block_text(b)) for b in document.blocks if b.kind == "heading"}
    assert not any(chunk.text in headings for chunk in chunks), "a heading is a section, not a chunk"


def test_review_chunk_refs_are_the_numbers_cited_in_its_text(review) -> None:
    document, chunks = review
    for chunk in chunks:
        assert chunk.refs == sorted(cited_numbers(chunk.text))
    assert set().union(*(chunk.refs for chunk in chunks)) == cited_numbers(document.text)


def test_review_citation_brackets_stay_whole_inside_their_chunk(review) -> None:
    document, chunks = review
    for chunk in chunks:
        assert_brackets_whole(chunk)
    for start, end, _ in find_citations(document.text):
        assert any(chunk.char_start <= start and end <= chunk.char_end for chunk in chunks), document.text[start:end]


def test_review_table_rows_stay_whole_with_their_citations(review) -> None:
    _, chunks = review
    rows = {
        "[42, 300-307]": (
            "| Exosome Biogenesis Inhibitors (e.g., GW4869) |",
            [42, *range(300, 308)],
        ),
        "[8, 73, 171, 308-310]": (
            "| Exosome Secretion Blockade (e.g., Rab27a inhibition) |",
            [8, 73, 171, 308, 309, 310],
        ),
    }
    for citation, (row_start, refs) in rows.items():
        (chunk,) = [c for c in chunks if citation in c.text]
        assert chunk.text.startswith(row_start) and chunk.text.endswith("|")
        assert "\n" not in chunk.text
        assert chunk.refs == refs
    (panel,) = [c for c in chunks if "Panels of exosomal miRNAs" in c.text]
    assert panel.text.endswith("early detection and prognosis [8, 117, 118, 347-349].")
    assert panel.refs == [8, 117, 118, 347, 348, 349]


def test_review_table_rows_stay_whole_under_a_tiny_word_budget() -> None:
    _, chunks = chunk_file(REVIEW, REVIEW_PATH, chunk_words=8)
    rows = [c for c in chunks if c.text.startswith("| Exosom")]
    assert len(rows) == 3
    assert all(c.text.endswith("|") and cited_numbers(c.text) == set(c.refs) and c.refs for c in rows)


def test_a_run_with_no_sentence_break_is_cut_into_bounded_chunks_that_cover_it(tmp_path: Path) -> None:
    # A lower-case transcript on one line has no sentence break to cut at, and a hash no space.
    transcript = " ".join(f"the cells released exosomes number {i} today." for i in range(6000))
    path = tmp_path / "transcript.txt"
    path.write_text(transcript + "\n\n" + "a" * 50_000 + "\n")
    document, chunks = chunk_file(path, "literature/21_transcript.txt", "literature", overlap_sentences=0)
    assert all(len(c.text.split()) <= MAX_PIECE_WORDS and len(c.text) <= MAX_PIECE_CHARACTERS for c in chunks)
    assert "".join(c.text for c in chunks).replace(" ", "") == document.text.replace(" ", "").replace("\n", "")
    assert all(document.text[c.char_start:c.char_end] == c.text for c in chunks)


@pytest.mark.parametrize("seed", range(12))
def test_a_long_run_is_cut_between_words_and_each_chunk_locates_its_text(seed: int) -> None:
    rng = random.Random(seed)
    words = ["".join(rng.choice("acgt") for _ in range(rng.randint(15, 35))) for _ in range(900)]
    # A sequence dump on one line: every cut falls on a space, so no token is split in two.
    text = " ".join(words)
    document = LoadedDocument(path=Path("21_dump.txt"), text=text, blocks=[Block("paragraph", 0, len(text))], title="dump")
    chunks = chunk_document(document, "literature/21_dump.txt", "literature", "id", overlap_sentences=0)
    assert all(document.text[c.char_start:c.char_end] == c.text for c in chunks)
    assert [w for c in chunks for w in c.text.split()] == words


def test_review_chunks_fill_every_metadata_field(review) -> None:
    document, chunks = review
    assert len(chunks) > 10
    for chunk in chunks:
        assert chunk.source_path == REVIEW_PATH and chunk.source_kind == "review"
        assert chunk.source_id == "source-id" and chunk.title and chunk.section
        assert chunk.page is None  # a text file has no pages
        assert chunk.content_hash and chunk.chunk_id
        assert_offsets_locate_text(document, chunk)
    assert [c.char_start for c in chunks] == sorted(c.char_start for c in chunks)


def test_review_chunk_ids_are_unique_and_stable_across_processes(review) -> None:
    _, chunks = review
    ids = [chunk.chunk_id for chunk in chunks]
    assert len(set(ids)) == len(ids)
    assert [c.chunk_id for c in chunk_file(REVIEW, REVIEW_PATH)[1]] == ids
    script = (
        "import json, sys; from pathlib import Path;"
        "from exorag.ingest.loaders import load_document; from exorag.ingest.chunking import chunk_document;"
        f"d = load_document(Path({str(REVIEW)!r}));"
        f"print(json.dumps([c.chunk_id for c in chunk_document(d, {REVIEW_PATH!r}, 'review', 'source-id')]))"
    )
    for seed in ("1", "2"):
        result = subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
            cwd=ROOT,
        )
        assert json.loads(result.stdout) == ids


def test_chunk_ids_derive_from_path_and_content_not_location(tmp_path: Path) -> None:
    text = REVIEW.read_text(encoding="utf-8")
    first, second = tmp_path / "a" / "review.txt", tmp_path / "b" / "review.txt"
    for path in (first, second):
        path.parent.mkdir()
        path.write_text(text, encoding="utf-8")
    ids = [c.chunk_id for c in chunk_file(first, "review/review.txt")[1]]
    assert [c.chunk_id for c in chunk_file(second, "review/review.txt")[1]] == ids
    # the same text in another file of the corpus is another chunk
    assert not set(ids) & {c.chunk_id for c in chunk_file(second, "review/copy.txt")[1]}
    second.write_text(
        text.replace("worse patient responses", "poorer patient responses"),
        encoding="utf-8",
    )
    edited = chunk_file(second, "review/review.txt")[1]
    (changed,) = [c for c in edited if "poorer patient responses" in c.text]
    assert changed.chunk_id not in ids


# --- Literature files: the paper's own number ---------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "number"),
    [
        ("0058-li2020.txt", 58),
        ("170_poggio2019.pdf", 170),
        ("13.md", 13),
        ("li2020.txt", None),
        ("x58.txt", None),
        ("20240115_notes.pdf", None),
        ("0000_intro.txt", None),  # reference lists start at 1
        ("0.txt", None),
    ],
)
def test_reference_number_of_a_literature_file_name(name: str, number: int | None) -> None:
    assert reference_number_of(name) == number


PAPER = (
    "Hypoxic hepatocellular carcinoma cells secrete exosomes rich in miR-1273f. These exosomes activate "
    "Wnt signalling in recipient cells, as earlier work suggested [12, 14]. "
)


def test_numbered_literature_file_chunks_carry_its_number(tmp_path: Path) -> None:
    path = tmp_path / "0058-li2020.txt"
    path.write_text(f"Exosomal miR-1273f in HCC\n\n{PAPER * 6}\n\n{PAPER * 6}\n", encoding="utf-8")
    _, chunks = chunk_file(path, "literature/0058-li2020.txt", "literature", chunk_words=40)
    assert len(chunks) > 2
    assert all(chunk.refs == [58] for chunk in chunks)  # its own number, not the numbers it cites
    assert all(chunk.source_kind == "literature" and chunk.section for chunk in chunks)


def test_literature_file_without_a_leading_number_carries_no_refs(
    tmp_path: Path,
) -> None:
    path = tmp_path / "li2020.txt"
    path.write_text(f"Exosomal miR-1273f in HCC\n\n{PAPER * 3}\n", encoding="utf-8")
    _, chunks = chunk_file(path, "literature/li2020.txt", "literature")
    assert chunks and all(chunk.refs == [] for chunk in chunks)


def test_pdf_chunks_carry_their_page_and_offsets(tmp_path: Path) -> None:
    pages = [
        ["# Exosome release under hypoxia", "Alphaword marks page one. " + PAPER * 3],
        [
            "# PD-L1 on exosomes",
            "Betaword marks page two. Exosomal PD-L1 binds PD-1 on T cells [170-172]. " + PAPER * 2,
        ],
        [
            "# Blocking secretion",
            "Gammaword marks page three. Rab27a knock-down lowers exosome release [8, 73, 171, 308-310].",
        ],
    ]
    path = make_pdf(tmp_path / "170_poggio2019.pdf", pages, title="Exosomes in cancer")
    document, chunks = chunk_file(path, "literature/170_poggio2019.pdf", "literature", chunk_words=50)
    for marker, page, section in (
        ("Alphaword", 1, "Exosome release under hypoxia"),
        ("Betaword", 2, "PD-L1 on exosomes"),
        ("Gammaword", 3, "Blocking secretion"),
    ):
        (chunk,) = [c for c in chunks if c.text.startswith(marker)]
        assert (chunk.page, chunk.section) == (page, section)
    for chunk in chunks:
        assert chunk.page in (1, 2, 3)
        assert chunk.refs == [170] and chunk.title == "Exosomes in cancer"
        assert_offsets_locate_text(document, chunk)
        assert_brackets_whole(chunk)


# --- Generated documents ---------------------------------------------------------------------------


CITATIONS = [
    "[58]",
    "[59, 61]",
    "[170-172]",
    "[170\u2013172]",
    "[13-16, 14]",
    "[8, 73, 171, 308-310]",
    "[113, Figure 5]",
    "[20,175]",
    "[162 , 161]",
]
WORDS = [
    "exosomes",
    "tumour",
    "cells",
    "hypoxia",
    "release",
    "PD-L1",
    "miR-21",
    "vesicles",
    "signalling",
    "e.g.",
    "et al.",
    "Fig. 2",
    "(HCC)",
    "TGF-\u03b2",
    "3-10-fold",
    "1%",
]


@st.composite
def sentences(draw: st.DrawFn) -> str:
    words = draw(st.lists(st.sampled_from(WORDS), min_size=3, max_size=18))
    words[0] = words[0].capitalize()
    if draw(st.booleans()):  # a citation in the middle of the sentence
        words.insert(draw(st.integers(1, len(words))), draw(st.sampled_from(CITATIONS)))
    ending = draw(st.sampled_from([".", " " + draw(st.sampled_from(CITATIONS)) + ".", "?", "!"]))
    return " ".join(words) + ending


paragraphs = st.lists(sentences(), min_size=1, max_size=8).map(" ".join)
sections = st.tuples(
    st.sampled_from(["Hypoxia", "Immune evasion", "Therapy", "Metabolism"]),
    st.lists(paragraphs, min_size=1, max_size=3),
)


@settings(max_examples=80, deadline=None)
@given(
    st.lists(sections, min_size=1, max_size=4),
    st.integers(min_value=8, max_value=60),
    st.integers(0, 2),
    st.sampled_from(["markdown", "wrapped text"]),
)
# Found by the search above: the wrapped line after "[8, 73, 171," starts "308-310] ...", which
# reads like a numbered heading.
@example([("Hypoxia", ["Exosomes exosomes exosomes.", (
    "Exosomes exosomes exosomes exosomes exosomes. Exosomes exosomes exosomes. Exosomes e.g. exosomes. Exosomes exosomes "
    "exosomes [8, 73, 171, 308-310] exosomes exosomes exosomes exosomes exosomes exosomes exosomes exosomes tumour tumour."
)])], 8, 0, "wrapped text")
def test_generated_documents_keep_sections_sentences_and_citations(doc_sections, chunk_words, overlap, form) -> None:
    if form == "markdown":
        name, text = (
            "review.md",
            "\n\n".join(
                f"## {heading} {index}\n\n" + "\n\n".join(paras) for index, (heading, paras) in enumerate(doc_sections)
            ),
        )
    else:  # hard-wrapped lines: citation brackets may break across a line end
        name, text = (
            "review.txt",
            "\n\n".join(textwrap.fill(p, 50) for _, paras in doc_sections for p in paras),
        )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_text(text, encoding="utf-8")
        document, chunks = chunk_file(path, f"review/{name}", chunk_words=chunk_words, overlap_sentences=overlap)
    assert chunks
    for chunk in chunks:
        assert_brackets_whole(chunk)
        assert chunk.refs == sorted(cited_numbers(chunk.text))
        assert_offsets_locate_text(document, chunk)
        if form == "markdown":
            assert chunk.section == heading_before(document, chunk.char_start)
            assert chunk.text.endswith((".", "?", "!")), chunk.text  # chunks end at a sentence end
    # every citation of the document is whole inside some chunk
    for start, end, _ in find_citations(document.text):
        assert any(c.char_start <= start and end <= c.char_end for c in chunks), document.text[start:end]
    # no text is dropped: every character of every paragraph lies inside some chunk's span
    for block in document.blocks:
        for offset in range(block.start, block.end):
            if block.kind == "paragraph" and not document.text[offset].isspace():
                assert any(c.char_start <= offset < c.char_end for c in chunks), document.block_text(block)


def test_long_paragraph_chunks_overlap_by_one_sentence(tmp_path: Path) -> None:
    sentences_ = [
        f"Exosome finding number {word} was reported by the group [{n}]."
        for n, word in enumerate(
            [
                "one",
                "two",
                "three",
                "four",
                "five",
                "six",
                "seven",
                "eight",
                "nine",
                "ten",
            ],
            start=1,
        )
    ]
    path = tmp_path / "paper.md"
    path.write_text("# Findings\n\n" + " ".join(sentences_) + "\n", encoding="utf-8")
    _, chunks = chunk_file(path, "review/paper.md", chunk_words=25, overlap_sentences=1)
    assert len(chunks) >= 3
    for before, after in itertools.pairwise(chunks):
        last_sentence = before.text.rsplit(". ", 1)[-1] if ". " in before.text else before.text
        assert after.text.startswith(last_sentence), (before.text, after.text)
        assert all(len(c.text.split()) <= 25 for c in (before, after))
    assert [s for s in sentences_ if not any(s in c.text for c in chunks)] == []
    _, without = chunk_file(path, "review/paper.md", chunk_words=25, overlap_sentences=0)
    assert sum(len(c.text.split()) for c in without) == sum(len(s.split()) for s in sentences_)


def test_citation_broken_by_a_page_break_stays_whole(tmp_path: Path) -> None:
    pages = [
        ["# Immune evasion", PAPER * 3 + "Exosomal PD-L1 binds PD-1 on T cells and suppresses their activation [170-"],
        ["172]. Blocking exosome release restores the response to checkpoint therapy in mice [8, 73]."],
    ]
    path = make_pdf(tmp_path / "review.pdf", pages)
    document, chunks = chunk_file(path, "review/review.pdf")
    (chunk,) = [c for c in chunks if "suppresses their activation" in c.text]
    assert chunk.page == 1 and {170, 171, 172} <= set(chunk.refs)
    assert chunk.refs == sorted(cited_numbers(chunk.text))
    for chunk in chunks:
        assert_brackets_whole(chunk)
        assert_offsets_locate_text(document, chunk)


def test_citation_broken_by_a_line_end_in_a_short_text_file_keeps_its_numbers(tmp_path: Path) -> None:
    path = tmp_path / "review.txt"
    path.write_text(
        "Exosomes carry PD-L1 and bind PD-1 on T cells, which suppresses them [8, 73, 171,\n"
        "308-310]. Blocking their release restores the response.\n",
        encoding="utf-8",
    )
    for chunk_words in (8, 120):
        _, chunks = chunk_file(path, "review/review.txt", chunk_words=chunk_words)
        (cited,) = [c for c in chunks if "308-310]" in c.text]
        assert cited.refs == [8, 73, 171, 308, 309, 310]
        assert all(c.text.count("[") == c.text.count("]") for c in chunks)
