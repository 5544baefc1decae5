"""Document loaders: real PDFs (generated), Markdown, HTML and text files, and the bundled review."""

from __future__ import annotations

import random
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from pdf_factory import (
    SAMPLE_PAGES,
    make_encrypted_pdf,
    make_image_only_pdf,
    make_pdf,
    make_truncated_pdf,
    pdf_bytes,
)

from exorag.ingest.chunking import chunk_document
from exorag.ingest.loaders import LoadedDocument, LoadError, load_document, pdf, supported_extensions
from exorag.ingest.loaders.pdf import drop_running_lines, join_broken_words
from exorag.ingest.loaders.structure import is_hard_wrapped, looks_like_heading, plain_text_blocks

REVIEW = Path(__file__).resolve().parents[1] / "corpus" / "review" / "review-analysis.txt"
NO_TEXT_LAYER = "no text layer (scanned or image-only PDF); run OCR first"

LONG_SENTENCE = (
    "Tumour cells release exosomes that carry PD-L1 on their surface, and these vesicles bind PD-1 on "
    "T cells in the tumour and in the circulation. "
)


def blocks_of(doc: LoadedDocument, kind: str | None = None) -> list[str]:
    return [doc.block_text(block) for block in doc.blocks if kind is None or block.kind == kind]


def assert_offsets_consistent(doc: LoadedDocument) -> None:
    """Blocks lie in order inside the text, without overlap, and start and end on visible text."""
    previous_end = 0
    for block in doc.blocks:
        assert previous_end <= block.start < block.end <= len(doc.text), block
        block_text = doc.block_text(block)
        assert block_text == block_text.strip(), block
        previous_end = block.end


# --- PDF ---------------------------------------------------------------------------------------


def test_multi_page_pdf_keeps_page_numbers_headings_and_citation_ranges(tmp_path: Path) -> None:
    pages = [
        ["# Exosome biogenesis", LONG_SENTENCE * 3, "Hypoxia raises exosome release [13-16, 14]."],
        ["# Immune evasion", "Exosomal PD-L1 blunts T-cell activity [170-172]. " + LONG_SENTENCE * 2],
        ["# Therapy", "Blocking Rab27a lowers exosome secretion [8, 73, 171, 308-310]."],
    ]
    doc = load_document(make_pdf(tmp_path / "170_poggio.pdf", pages, title="Exosomes in cancer"))

    assert doc.title == "Exosomes in cancer"
    headings = {doc.block_text(b): b.page for b in doc.blocks if b.kind == "heading"}
    assert headings == {"Exosome biogenesis": 1, "Immune evasion": 2, "Therapy": 3}
    cited = {
        citation: next(b.page for b in doc.blocks if b.kind == "paragraph" and citation in doc.block_text(b))
        for citation in ("[13-16, 14]", "[170-172]", "[8, 73, 171, 308-310]")
    }
    assert cited == {"[13-16, 14]": 1, "[170-172]": 2, "[8, 73, 171, 308-310]": 3}
    assert {block.page for block in doc.blocks} == {1, 2, 3}
    assert_offsets_consistent(doc)
    # pages are joined by one blank line, and each block sits inside its own page's stretch
    page_starts = [0] + [index + 2 for index in range(len(doc.text)) if doc.text.startswith("\n\n", index)]
    assert len(page_starts) == 3 and doc.text[page_starts[1] :].startswith("Immune evasion")
    for block in doc.blocks:
        page_end = page_starts[block.page] - 2 if block.page < 3 else len(doc.text)
        assert page_starts[block.page - 1] <= block.start < block.end <= page_end


def test_pdf_paragraphs_split_at_headings_without_blank_lines(tmp_path: Path) -> None:
    pages = [["# Results", LONG_SENTENCE * 3, "# Discussion", "Short closing remark on exosomes [58]."]]
    doc = load_document(make_pdf(tmp_path / "paper.pdf", pages))

    kinds = [(block.kind, doc.block_text(block)[:20]) for block in doc.blocks]
    assert kinds == [
        ("heading", "Results"),
        ("paragraph", "Tumour cells release"),
        ("heading", "Discussion"),
        ("paragraph", "Short closing remark"),
    ]
    assert doc.title == "Results"  # no /Title in the metadata: the first heading


def test_pdf_title_falls_back_to_file_stem_without_headings(tmp_path: Path) -> None:
    doc = load_document(make_pdf(tmp_path / "0058-li2020.pdf", [[LONG_SENTENCE * 2]]))
    assert doc.title == "0058-li2020"


def test_pdf_text_of_justified_lines_has_single_spaces(tmp_path: Path) -> None:
    doc = load_document(make_pdf(tmp_path / "justified.pdf", [[LONG_SENTENCE * 4]]))
    assert "  " not in doc.text
    assert "bind PD-1 on" in doc.text.replace("\n", " ")


def test_pdf_joins_words_hyphenated_at_line_end_and_keeps_offsets(tmp_path: Path) -> None:
    line = "Hypoxic tumour cells release more vesicles than normoxic cells, and these small exo-"
    pages = [["# Hypoxia", f"{line}\nsomes carry HIF-1 targets to neighbouring cells [13-16]. " + LONG_SENTENCE]]
    doc = load_document(make_pdf(tmp_path / "hyphen.pdf", pages))

    assert "small exosomes" in doc.text
    assert "exo-" not in doc.text
    paragraph = blocks_of(doc, "paragraph")[0]
    assert "exosomes\ncarry HIF-1 targets" in paragraph and paragraph.endswith("the circulation.")
    assert_offsets_consistent(doc)


def test_join_broken_words_keeps_real_hyphens() -> None:
    assert join_broken_words("small exo-\nsomes carry") == "small exosomes\ncarry"
    assert join_broken_words("the exo-\nsomes\nNext line") == "the exosomes\nNext line"
    assert join_broken_words("tumour exo-\nsomes [58]. Next") == "tumour exosomes\n[58]. Next"
    assert join_broken_words("tumour exo-\nsomes). Next") == "tumour exosomes).\nNext"
    assert join_broken_words("exosome-\nmediated transfer") == "exosome-mediated\ntransfer"
    # a name's own hyphen before a capital or a digit stays, and the name is whole again
    assert join_broken_words("PD-\nL1 and miR-\n21") == "PD-L1\nand miR-21\n"
    assert join_broken_words("carried miR-\n1273f at levels") == "carried miR-1273f\nat levels"
    assert join_broken_words("anti-\ntumour", known_words={"anti-tumour"}) == "anti-tumour\n"
    assert join_broken_words("tumori-\ngenesis", known_words={"tumorigenesis"}) == "tumorigenesis\n"


def test_a_sentence_that_a_page_ends_mid_way_stays_whole(tmp_path: Path) -> None:
    # The page's last paragraph and the next page's first were two blocks, and the answer quoted "(p =".
    pages = [["# Results", LONG_SENTENCE + " Exosomes raised astrocyte proliferation 2.7-fold over control exosomes (p ="],
             ["0.0004), and GW4869 abolished the effect. " + LONG_SENTENCE]]
    doc = load_document(make_pdf(tmp_path / "crossing.pdf", pages))
    chunks = chunk_document(doc, "literature/170_crossing.pdf", "literature", "Crossing")
    whole = [c for c in chunks if "(p = 0.0004)" in c.text]
    assert whole and whole[0].page == 1 and not any(c.text.rstrip().endswith("(p =") for c in chunks)
    assert_offsets_consistent(doc)
    # a page that ends its sentence ends its paragraph
    ended = load_document(make_pdf(tmp_path / "ended.pdf", [["# Results", LONG_SENTENCE], [LONG_SENTENCE]]))
    assert [b.page for b in ended.blocks if b.kind == "paragraph"] == [1, 2]


def test_a_justified_line_short_in_characters_goes_on_with_its_sentence() -> None:
    # In a narrow justified column a line of a few long words is short in characters, yet full width.
    lines = ["Tumour-derived exosomes are potent mediators of intercellular communication that",
             "orchestrate several key hallmarks like malignant growth, invasion and metastasis",
             "and immune", "modulation in recipient cells of the tumour microenvironment [1-3].",
             "Hypoxia, common in solid tumours, significantly enhances exosome production."]
    blocks = plain_text_blocks("\n".join(lines), wrapped=True)
    text = "\n".join(lines)
    paragraphs = [text[b.start:b.end] for b in blocks]
    assert paragraphs[0].endswith("tumour microenvironment [1-3].") and len(paragraphs) == 2


def test_ligatures_are_letters_and_a_word_broken_before_one_is_joined(tmp_path: Path) -> None:
    pages = [["# Results", "miR-1273f was the most abundant species we identi-\n\ufb01ed in serum, with speci-\n\ufb01c controls. "
              + LONG_SENTENCE]]
    doc = load_document(make_pdf(tmp_path / "ligatures.pdf", pages))
    assert "we identified\nin serum" in doc.text and "specific" in doc.text and "\ufb01" not in doc.text


@pytest.mark.parametrize("title", ["Microsoft Word - ms_rev2_clean.docx", "untitled", "manuscript_v3_FINAL.pdf"])
def test_a_placeholder_metadata_title_gives_way_to_the_papers_heading(tmp_path: Path, title: str) -> None:
    pages = [["# Rab27a knockdown limits melanoma exosome release", LONG_SENTENCE]]
    assert load_document(make_pdf(tmp_path / "paper.pdf", pages, title=title)).title == (
        "Rab27a knockdown limits melanoma exosome release")


def test_control_and_format_characters_leave_a_metadata_title(tmp_path: Path) -> None:
    doc = load_document(make_pdf(tmp_path / "paper.pdf", [[LONG_SENTENCE]], title="Exosomes\x1b[2J\u202e carry PD-L1"))
    assert doc.title == "Exosomes[2J carry PD-L1"


def test_a_lone_surrogate_in_the_text_layer_costs_that_character_not_the_paper(tmp_path: Path) -> None:
    # A broken character map (ToUnicode to a lone surrogate) failed the whole paper with a traceback.
    data = pdf_bytes([["# Results", "Exosomes carried Z-marked cargo (TGF-β). " + LONG_SENTENCE]], compress=False)
    glyph = re.search(rb"<([0-9A-F]{4})> <005A>", data)
    assert glyph, "the factory's Unicode font maps a glyph to Z"
    (tmp_path / "broken_map.pdf").write_bytes(data.replace(glyph.group(0), b"<" + glyph.group(1) + b"> <D800>"))
    doc = load_document(tmp_path / "broken_map.pdf")
    chunks = chunk_document(doc, "literature/171_broken_map.pdf", "literature", "Broken map")
    assert "carried \ufffd-marked cargo" in chunks[0].text


def test_a_pdf_without_pages_says_so(tmp_path: Path) -> None:
    from pypdf import PdfWriter
    PdfWriter().write(tmp_path / "empty.pdf")
    with pytest.raises(LoadError, match="PDF has no pages"):
        load_document(tmp_path / "empty.pdf")


def test_pdf_running_headers_and_page_numbers_are_dropped(tmp_path: Path) -> None:
    pages = [[f"# Finding {number}", LONG_SENTENCE * 2] for number in range(1, 5)]
    header = "Cancer Research 79(12) 2019"
    doc = load_document(make_pdf(tmp_path / "journal.pdf", pages, running_header=header))

    assert doc.text.count(header) == 1  # the first occurrence stays: it may be the title
    assert blocks_of(doc, "heading")[-4:] == ["Finding 1", "Finding 2", "Finding 3", "Finding 4"]
    assert [b.page for b in doc.blocks if b.kind == "heading"][-4:] == [1, 2, 3, 4]
    assert not any(line.strip().isdigit() for line in doc.text.splitlines())
    assert_offsets_consistent(doc)


def test_drop_running_lines_keeps_lines_that_do_not_recur() -> None:
    pages = ["J Cell Biol 2019\nIntro text.\n1", "J Cell Biol 2019\nMethods text.\n2", "Results text.\nPage 3 of 3"]
    assert drop_running_lines(pages) == [
        "J Cell Biol 2019\nIntro text.",
        "J Cell Biol 2019\nMethods text.",
        "Results text.",
    ]
    journal = ["Nature 5\nOne.", "Nature 6\nTwo.", "Nature 7\nThree."]
    assert drop_running_lines(journal) == ["Nature 5\nOne.", "Two.", "Three."]


def test_encrypted_pdf_is_refused(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match=r"^encrypted PDF$"):
        load_document(make_encrypted_pdf(tmp_path / "7_locked.pdf"))


def test_pdf_encrypted_only_against_editing_opens_with_empty_password(tmp_path: Path) -> None:
    doc = load_document(make_encrypted_pdf(tmp_path / "protected.pdf", user_password=""))
    assert blocks_of(doc, "heading") == ["Exosomal PD-L1 and T cells", "Hypoxia and exosome release"]
    assert "[170-172]" in doc.text


def test_truncated_pdf_is_refused(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match=r"^corrupt or truncated PDF: \S"):
        load_document(make_truncated_pdf(tmp_path / "cut.pdf"))


def damaged_copies(original: bytes, folder: Path, count: int) -> list[Path]:
    """``count`` copies of ``original`` with 20 bytes each overwritten at random (seeded)."""
    randomness = random.Random(7)
    paths = []
    for variant in range(count):
        damaged = bytearray(original)
        for _ in range(20):
            damaged[randomness.randrange(len(damaged))] = randomness.randrange(256)
        paths.append(folder / f"damaged{variant}.pdf")
        paths[-1].write_bytes(bytes(damaged))
    return paths


def test_damaged_pdfs_load_or_fail_with_load_error(tmp_path: Path) -> None:
    outcomes = set()
    for path in damaged_copies(pdf_bytes(SAMPLE_PAGES * 2), tmp_path, 40):
        try:
            load_document(path)
            outcomes.add("loaded")
        except LoadError as error:
            outcomes.add(str(error).split(":")[0])
    assert "corrupt or truncated PDF" in outcomes


def test_pypdf_complaints_do_not_reach_stderr(tmp_path: Path) -> None:
    # pytest captures log records itself, so run the loads in a fresh interpreter as the CLI does
    make_truncated_pdf(tmp_path / "cut.pdf")
    damaged_copies(pdf_bytes(SAMPLE_PAGES * 2), tmp_path, 40)
    script = (
        "import sys; from pathlib import Path; from exorag.ingest.loaders import LoadError, load_document\n"
        "for path in sorted(Path(sys.argv[1]).glob('*.pdf')):\n"
        "    try: load_document(path)\n"
        "    except LoadError as error: print(error)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, timeout=120, check=True
    )
    assert "corrupt or truncated PDF: " in result.stdout
    assert result.stderr == ""


def test_pdf_that_is_not_a_pdf_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "fake.pdf"
    path.write_text("<html>a web page saved with the wrong name</html>")
    with pytest.raises(LoadError, match=r"^corrupt or truncated PDF: "):
        load_document(path)


def test_zero_byte_pdf_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "empty.pdf"
    path.write_bytes(b"")
    with pytest.raises(LoadError, match=r"^empty file \(0 bytes\)$"):
        load_document(path)
    with pytest.raises(LoadError, match=r"^empty file \(0 bytes\)$"):
        pdf.load(path)


def test_image_only_pdf_asks_for_ocr(tmp_path: Path) -> None:
    path = make_image_only_pdf(tmp_path / "scan.pdf", pages=2)
    with pytest.raises(LoadError) as raised:
        load_document(path)
    assert str(raised.value) == NO_TEXT_LAYER


def test_pdf_factory_output_is_reproducible(tmp_path: Path) -> None:
    first = make_pdf(tmp_path / "a.pdf", SAMPLE_PAGES, title="T").read_bytes()
    second = make_pdf(tmp_path / "b.pdf", SAMPLE_PAGES, title="T").read_bytes()
    assert first == second


def test_pdf_with_greek_letters_keeps_them(tmp_path: Path) -> None:
    pages = [["# TGF-β signalling", "Exosomal TGF-β and IL-1β promote regulatory T cells [20, 175]."]]
    doc = load_document(make_pdf(tmp_path / "greek.pdf", pages))
    assert blocks_of(doc, "heading") == ["TGF-β signalling"]
    assert "IL-1β" in doc.text


# --- Markdown ----------------------------------------------------------------------------------

MARKDOWN = """\
# Tumour exosomes #

Exosomes carry PD-L1
to distant T cells [170-172].

Immune evasion
--------------

- Exosomal PD-L1 binds PD-1.
- TGF-β promotes Treg cells
  and impairs NK cells [20, 175].
  1. Nested point

| Strategy | Target |
|---|---|
| GW4869 | nSMase2 [42, 300-307] |

```
code is not a block
```
"""


def test_markdown_headings_paragraphs_list_items_and_table_rows(tmp_path: Path) -> None:
    path = tmp_path / "13.md"
    path.write_text(MARKDOWN, encoding="utf-8")
    doc = load_document(path)

    assert doc.text == MARKDOWN
    assert [(block.kind, doc.block_text(block)) for block in doc.blocks] == [
        ("heading", "Tumour exosomes"),
        ("paragraph", "Exosomes carry PD-L1\nto distant T cells [170-172]."),
        ("heading", "Immune evasion"),
        ("paragraph", "Exosomal PD-L1 binds PD-1."),
        ("paragraph", "TGF-β promotes Treg cells\n  and impairs NK cells [20, 175]."),
        ("paragraph", "Nested point"),
        ("table_row", "| Strategy | Target |"),
        ("table_row", "| GW4869 | nSMase2 [42, 300-307] |"),
    ]
    assert doc.title == "Tumour exosomes"
    assert all(block.page is None for block in doc.blocks)


def test_a_markdown_blockquote_is_read_without_its_markers(tmp_path: Path) -> None:
    path = tmp_path / "quote.md"
    path.write_text("# Notes\n\n> Exosomes derived from fibroblasts\n> promote stemness [58].\n>\n> > A nested quote\n"
                    "> > goes on here.\n\nPlain text 3 > 2 stays.\n", encoding="utf-8")
    doc = load_document(path)
    assert [" ".join(doc.block_text(block).split()) for block in doc.blocks] == [
        "Notes", "Exosomes derived from fibroblasts promote stemness [58].", "A nested quote goes on here.",
        "Plain text 3 > 2 stays."]


def test_markdown_front_matter_gives_the_title_and_no_blocks(tmp_path: Path) -> None:
    path = tmp_path / "paper.markdown"
    path.write_text('---\ntitle: "Exosomes and hypoxia"\nyear: 2020\n---\n## Methods\n\nCells were grown.\n')
    doc = load_document(path)
    assert doc.title == "Exosomes and hypoxia"
    assert [(block.kind, doc.block_text(block)) for block in doc.blocks] == [
        ("heading", "Methods"),
        ("paragraph", "Cells were grown."),
    ]


# --- HTML --------------------------------------------------------------------------------------

HTML = """<!DOCTYPE html>
<html><head><title>Exosomes  and
 cancer</title><style>p { color: red }</style><script>var hidden = "script text";</script></head>
<body><nav><a href="/">Home</a> <a href="/about">About</a></nav><!-- a comment -->
<h1>Tumour exosomes</h1>
<p>Exosomal PD-L1 binds <em>PD-1</em> on T cells [170&ndash;172].<br>It blunts their activity.</p>
<h2>Therapy</h2>
<ul><li>Rab27a blockade<ul><li>GW4869</li></ul></li></ul>
<blockquote>A quoted finding.</blockquote>
<figure><img src="f.png"><figcaption>Figure 5. Senescent fibroblasts</figcaption></figure>
<table><tr><th>Strategy</th><th>Target</th></tr>
<tr><td>GW4869</td><td>nSMase2 [42, 300-307]</td></tr></table>
</body></html>
"""


def test_html_visible_block_text_with_kinds_and_offsets(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text(HTML, encoding="utf-8")
    doc = load_document(path)

    assert [(block.kind, doc.block_text(block)) for block in doc.blocks] == [
        ("heading", "Tumour exosomes"),
        ("paragraph", "Exosomal PD-L1 binds PD-1 on T cells [170–172]. It blunts their activity."),
        ("heading", "Therapy"),
        ("paragraph", "Rab27a blockade"),
        ("paragraph", "GW4869"),
        ("paragraph", "A quoted finding."),
        ("paragraph", "Figure 5. Senescent fibroblasts"),
        ("table_row", "| Strategy | Target |"),
        ("table_row", "| GW4869 | nSMase2 [42, 300-307] |"),
    ]
    assert doc.title == "Exosomes and cancer"
    for hidden in ("script text", "color", "Home", "About", "a comment"):
        assert hidden not in doc.text
    assert_offsets_consistent(doc)


def test_html_title_falls_back_to_first_h1(tmp_path: Path) -> None:
    path = tmp_path / "untitled.htm"
    path.write_text("<body><p>Intro text.</p><h1>Exosomal <i>miR-21</i></h1><p>Body.</p></body>")
    assert load_document(path).title == "Exosomal miR-21"


def test_html_is_decoded_with_its_declared_charset(tmp_path: Path) -> None:
    path = tmp_path / "legacy.html"
    page = '<html><head><meta charset="iso-8859-1"></head><body><p>Müller’s café – naïve T cells</p></body></html>'
    path.write_bytes(page.encode("cp1252"))
    assert blocks_of(load_document(path)) == ["Müller’s café – naïve T cells"]


@pytest.mark.parametrize("body", ["Exosomes carry PD-L1 [170].", "Exosomes carry PD-L1 [170]!"])  # even and odd byte counts
def test_html_declaring_utf16_in_ascii_is_read_as_utf8(tmp_path: Path, body: str) -> None:
    path = tmp_path / "mislabelled.html"
    path.write_bytes(f'<html><head><meta charset="utf-16"></head><body><p>{body} Café.</p></body></html>'.encode())
    assert blocks_of(load_document(path)) == [f"{body} Café."]


def test_html_nested_past_the_recursion_limit_is_a_load_error(tmp_path: Path) -> None:
    path = tmp_path / "deep.html"
    path.write_text("<html><body>" + "<div>" * 5000 + "Exosomes carry PD-L1." + "</div>" * 5000 + "</body></html>")
    with pytest.raises(LoadError, match="nested too deeply"):
        load_document(path)


def test_html_declaring_a_charset_that_cannot_decode_it_is_read_by_detection(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    page = '<html><head><meta charset="{}"></head><body><p>Tumour exosomes carry PD-L1 à la surface.</p></body></html>'
    path.write_bytes(page.format("punycode").encode())
    assert blocks_of(load_document(path)) == ["Tumour exosomes carry PD-L1 à la surface."]
    path.write_bytes(page.format("ut\x00-8").encode())  # a NUL in the name: refused as binary, not a crash
    with pytest.raises(LoadError, match="binary content"):
        load_document(path)


# --- Plain text ----------------------------------------------------------------------------------

FRENCH = (
    "Résumé des exosomes tumoraux\n"
    "Les exosomes transportent des protéines et modifient le microenvironnement — café, naïve, "
    "“PD-L1” [170–172].\n"
)


def test_cp1252_text_file_decodes_accents(tmp_path: Path) -> None:
    path = tmp_path / "resume.txt"
    path.write_bytes(FRENCH.encode("cp1252"))
    doc = load_document(path)
    assert doc.text == FRENCH
    assert blocks_of(doc, "heading") == ["Résumé des exosomes tumoraux"]


def test_one_stray_byte_in_a_utf8_file_costs_that_byte_not_the_files_greek_letters(tmp_path: Path) -> None:
    utf8 = "Melanoma exosomes carry integrins (α6β4 for lung, αvβ5 for liver); IL-1β activates NF-κB.\n"
    path = tmp_path / "stray.txt"
    path.write_bytes(utf8.encode() + b"A pasted quote: \x92tumour\x92.\n" + utf8.encode())
    text = load_document(path).text
    assert text.count("α6β4") == 2 and text.count("IL-1β") == 2
    assert "\ufffdtumour\ufffd" in text


def test_utf16_text_file_decodes(tmp_path: Path) -> None:
    path = tmp_path / "utf16.txt"
    path.write_bytes(FRENCH.encode("utf-16"))
    assert load_document(path).text == FRENCH


def test_binary_file_named_txt_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "image.txt"
    path.write_bytes(make_image_only_pdf(tmp_path / "scan.pdf").read_bytes() + bytes(range(256)))
    with pytest.raises(LoadError, match="binary content"):
        load_document(path)


def test_unreadable_path_is_refused(tmp_path: Path) -> None:
    # tests run as root, where chmod 000 still reads: a directory is a path that open() refuses
    folder = tmp_path / "notes.txt"
    folder.mkdir()
    with pytest.raises(LoadError, match=r"^cannot read: "):
        load_document(folder)


def test_missing_and_unsupported_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match=r"^cannot read: "):
        load_document(tmp_path / "missing.txt")
    with pytest.raises(LoadError, match=r"^unsupported file type \.docx$"):
        load_document(tmp_path / "paper.docx")
    assert {".pdf", ".md", ".markdown", ".html", ".htm", ".txt"} <= supported_extensions()


def test_bundled_review_loads_with_headings_and_table_rows() -> None:
    doc = load_document(REVIEW)

    headings = blocks_of(doc, "heading")
    assert "EGFRvIII Transfer in Glioblastoma" in headings
    assert "PD-L1 Exosomes Blunt T-cell Activity" in headings
    rows = blocks_of(doc, "table_row")
    assert rows[0] == "| Strategy | Target/Mechanism | Evidence of Efficacy | Key Limitations |"
    assert [row.split("|")[1].strip() for row in rows[1:]] == [
        "Exosome Biogenesis Inhibitors (e.g., GW4869)",
        "Exosome Secretion Blockade (e.g., Rab27a inhibition)",
        "Exosomal PD-L1 Neutralization (e.g., exo-PD-L1 mAb)",
    ]
    assert any("[170-172]" in text for text in blocks_of(doc, "paragraph"))
    assert not any("[" in heading for heading in headings)
    assert_offsets_consistent(doc)


# --- Heading heuristic ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("EGFRvIII Transfer in Glioblastoma", True),
        ("2.1 Cell culture", True),
        ("Ready to Transform Your Enterprise?", True),
        ("Exosomes carry PD-L1 [170-172]", False),
        ("The cells were washed twice.", False),
        ("including exosomes and microvesicles", False),
        ("Hypoxia-regulated exosomal miR-21 can downregulate TET DNA demethylases in target cells of", False),
        ("small exo-", False),
        # A paragraph cut off after "&" runs on; it is no heading, nor the document's title.
        ("To ascertain whether vaginal lesions have a natural history similar to cervical lesions.MATERIALS &", False),
        ("| Strategy | Target |", False),
        ("", False),
    ],
)
def test_looks_like_heading(line: str, expected: bool) -> None:
    assert looks_like_heading(line) is expected


def test_heading_needs_longer_text_after_it() -> None:
    text = "Exosome Biology\nExosomes are small vesicles released by most cells.\nShort Line\nAnother\n"
    blocks = plain_text_blocks(text)
    assert [(b.kind, text[b.start : b.end]) for b in blocks] == [
        ("heading", "Exosome Biology"),
        ("paragraph", "Exosomes are small vesicles released by most cells."),
        ("paragraph", "Short Line"),
        ("paragraph", "Another"),
    ]


def test_a_papers_title_above_its_abstract_is_its_title_not_the_section_name(tmp_path: Path) -> None:
    path = tmp_path / "59_al-nedawi2008.txt"
    path.write_text("Intercellular transfer of the oncogenic receptor EGFRvIII by microvesicles\n\nAbstract\n\n"
                    "Glioma cells expressing EGFRvIII release microvesicles that carry the receptor to other cells.\n\n"
                    "Results\n\nUptake of these vesicles activated MAPK signalling in the recipient cells.\n")
    document = load_document(path)
    assert document.title == "Intercellular transfer of the oncogenic receptor EGFRvIII by microvesicles"
    assert blocks_of(document, "heading") == [document.title, "Abstract", "Results"]
    # Body text above a later section name stays body text: the last finding of a list, a question.
    text = ("Background\n\nOur main findings are the following.\n\n2. Anti-PD-L1 restores T cell killing in mice\n\n"
            "Conclusions\n\nExosomal PD-L1 is a target for therapy.\n")
    assert [b.kind for b in plain_text_blocks(text)] == ["heading", "paragraph", "paragraph", "heading", "paragraph"]


def test_wrapped_text_finds_headings_between_paragraphs_but_not_inside_them() -> None:
    text = (
        "Tumour cells release exosomes that carry PD-L1 on their surface and bind PD-1 on the\n"
        "T cells in the circulation. These vesicles suppress the activation of cytotoxic\n"
        "T cells and blunt the response to checkpoint therapy in many patients [170-172].\n"
        "Discussion\n"
        "Blocking exosome release with GW4869 restores the response in mouse models.\n"
    )
    blocks = plain_text_blocks(text, page=4, offset=100, wrapped=True)
    assert [(b.kind, b.page) for b in blocks] == [("paragraph", 4), ("heading", 4), ("paragraph", 4)]
    assert text[blocks[1].start - 100 : blocks[1].end - 100] == "Discussion"
    assert text[blocks[0].start - 100 : blocks[0].end - 100].endswith("[170-172].")


def test_table_separator_rows_are_not_blocks() -> None:
    text = "| A | B |\n|---|:-:|\n| 1 | 2 |\n"
    assert [text[b.start : b.end] for b in plain_text_blocks(text)] == ["| A | B |", "| 1 | 2 |"]


def test_hard_wrapped_text_file_joins_lines_into_paragraphs(tmp_path: Path) -> None:
    review = REVIEW.read_text(encoding="utf-8")
    wrapped = "\n".join(textwrap.fill(line, 90) for line in review.splitlines())
    path = tmp_path / "0001.txt"
    path.write_text(wrapped, encoding="utf-8")
    doc = load_document(path)

    assert is_hard_wrapped(wrapped) and not is_hard_wrapped(review)
    headings = blocks_of(doc, "heading")
    assert "EGFRvIII Transfer in Glioblastoma" in headings
    assert "PD-L1 Exosomes Blunt T-cell Activity" in headings
    assert set(headings) <= {text for text in blocks_of(load_document(REVIEW), "heading")}
    pd_l1 = next(text for text in blocks_of(doc, "paragraph") if text.startswith("Tumor cells expressing PD-L1"))
    assert "\n" in pd_l1 and pd_l1.endswith("[170-172].")
    assert_offsets_consistent(doc)
