"""The chat's HTML, Markdown export and paper upload, on real answers from the bundled index."""

from __future__ import annotations

import json
import re
import shutil
from html import escape
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from pdf_factory import make_pdf, make_truncated_pdf

from exorag.chain import AnswerOptions, answer, build_answer
from exorag.citations import cited_numbers
from exorag.config import Settings, get_settings
from exorag.generate import Draft, DraftSentence
from exorag.models import Answer, Evidence, Reference, Sentence
from exorag.store.stats import index_stats
from ui.export import answer_markdown, conversation_markdown, file_name_for
from ui.render import ALL_EVIDENCE, FileLinks, Turn, conversation_html, evidence_panel_html, highlight
from ui.upload import PaperRejected, add_paper, check_number, target_name

T_CELLS = "How do tumour exosomes blunt T cells?"
FRANCE = "What is the capital of France?"


def fake_reference(number: int) -> dict:
    return {"number": number, "citation": f"Author{number} A, et al. Paper {number}. J Exo 2020", "doi": f"10.5555/exo.{number}"}


@pytest.fixture(scope="module")
def referenced_settings(indexed_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The shared index, read with a corpus copy whose reference list knows every number the review cites."""
    corpus = tmp_path_factory.mktemp("referenced") / "corpus"
    shutil.copytree(indexed_settings.corpus, corpus)
    numbers = cited_numbers((corpus / "review" / "review-analysis.txt").read_text(encoding="utf-8"))
    lines = [json.dumps(fake_reference(n)) for n in sorted(numbers)]
    (corpus / "references.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return get_settings(corpus=corpus, index=indexed_settings.index)


@pytest.fixture(scope="module")
def t_cell_answer(referenced_settings: Settings):
    result = answer(T_CELLS, settings=referenced_settings)
    assert not result.abstained and result.sentences
    return result


@pytest.fixture(scope="module")
def france_answer(indexed_settings: Settings):
    return answer(FRANCE, settings=indexed_settings)


def links_for(settings: Settings) -> FileLinks:
    corpus = settings.corpus.resolve()
    return FileLinks(corpus, (corpus / "review", corpus / "literature"))


def test_every_answer_sentence_gets_a_chip_with_its_citation(t_cell_answer):
    html = conversation_html([Turn(T_CELLS, t_cell_answer)])
    chips = re.findall(r'<button class="xr-chip" type="button" data-turn="0" data-sentence="(\d+)"[^>]*>([^<]*)</button>', html)
    assert [int(index) for index, _ in chips] == list(range(len(t_cell_answer.sentences)))
    assert [label for _, label in chips] == [s.citation for s in t_cell_answer.sentences]
    assert "generator: extractive" in html and "xr-abstained" not in html


def test_an_abstention_looks_different_and_cites_nothing(france_answer):
    assert france_answer.abstained
    html = conversation_html([Turn(FRANCE, france_answer)])
    assert "xr-abstained" in html and "No answer from the indexed literature" in html
    assert not re.search(r'data-sentence="\d+"', html)
    assert f'data-sentence="{ALL_EVIDENCE}"' in html  # the closest passages stay inspectable


def test_question_and_corpus_text_are_escaped(indexed_settings):
    question = "<img src=x onerror=alert(1)> How do tumour exosomes blunt T cells?"
    html = conversation_html([Turn(question, answer(question, settings=indexed_settings))])
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


def test_a_weakly_supported_sentence_is_flagged_on_screen(t_cell_answer):
    evidence = t_cell_answer.evidence[:1]
    draft = Draft(sentences=[DraftSentence("Vesicles quietly reshape faraway organs over decades.", [evidence[0].id])])
    flagged = build_answer(T_CELLS, draft, evidence, "extractive", {})
    assert flagged.sentences and flagged.sentences[0].flagged
    html = conversation_html([Turn(T_CELLS, flagged)])
    assert "xr-flagged" in html and "weakly supported" in html and "generator: extractive" in html


def test_evidence_panel_shows_the_passage_with_the_sentence_marked_and_the_reference(t_cell_answer, referenced_settings):
    turns = [Turn(T_CELLS, t_cell_answer)]
    index, sentence = next((i, s) for i, s in enumerate(t_cell_answer.sentences) if s.refs)
    evidence = t_cell_answer.evidence_by_id(sentence.evidence_ids[0])
    panel = evidence_panel_html(turns, 0, index, links_for(referenced_settings))
    marked = re.findall(r"<mark>(.*?)</mark>", panel)
    assert marked and sentence.text.rstrip(".") in " ".join(marked)
    assert evidence.source_path in panel and escape(evidence.section) in panel
    for number in sentence.refs:
        assert escape(fake_reference(number)["citation"]) in panel
        assert f'href="https://doi.org/10.5555/exo.{number}"' in panel


def test_evidence_panel_says_when_the_reference_list_does_not_know_a_number(indexed_settings):
    plain = answer(T_CELLS, settings=indexed_settings)  # this corpus has no references.jsonl
    index, sentence = next((i, s) for i, s in enumerate(plain.sentences) if s.refs)
    panel = evidence_panel_html([Turn(T_CELLS, plain)], 0, index, links_for(indexed_settings))
    assert ", ".join(f"[{n}]" for n in sentence.refs) in panel and "not in the reference list" in panel
    assert "doi.org" not in panel


def test_evidence_panel_for_an_abstention_lists_the_closest_passages(france_answer, indexed_settings):
    panel = evidence_panel_html([Turn(FRANCE, france_answer)], 0, ALL_EVIDENCE, links_for(indexed_settings))
    assert panel.count('class="xr-passage"') == len(france_answer.evidence) > 0


def test_evidence_panel_ignores_chips_that_point_nowhere(t_cell_answer, indexed_settings):
    turns = [Turn(T_CELLS, t_cell_answer)]
    for turn, sentence in ((5, 0), (0, 99), (-2, 0)):
        assert "Click a citation chip" in evidence_panel_html(turns, turn, sentence, links_for(indexed_settings))


def test_highlight_marks_a_paraphrase_by_its_closest_sentence():
    passage = "Hypoxia raises exosome release. PD-L1 on exosomes binds PD-1 on T cells [170]. Unrelated text follows."
    marked = re.findall(r"<mark>(.*?)</mark>", highlight(passage, "Exosomal PD-L1 binds PD-1 receptors of T cells."))
    assert marked == ["PD-L1 on exosomes binds PD-1 on T cells [170]."]


def test_pdf_links_only_reach_pdfs_inside_the_served_folders(tmp_path):
    corpus = tmp_path / "corpus"
    (corpus / "literature").mkdir(parents=True)
    make_pdf(corpus / "literature" / "170_poggio.pdf", [["Page one."], ["Page two."]])
    (corpus / "literature" / "171_notes.txt").write_text("notes", encoding="utf-8")
    make_pdf(tmp_path / "secret.pdf", [["Not in the corpus."]])
    links = FileLinks(corpus.resolve(), ((corpus / "literature").resolve(),))
    url = links.url("literature/170_poggio.pdf", page=2)
    assert url is not None and url.startswith("gradio_api/file=") and url.endswith("170_poggio.pdf#page=2")
    assert links.url("literature/171_notes.txt") is None
    assert links.url("../secret.pdf") is None
    assert links.url("literature/missing.pdf") is None
    # a name with a line break is indexed, but Gradio serves no such path: no link that would 404
    make_pdf(corpus / "literature" / "172_new\nline.pdf", [["Page one."]])
    assert links.url("literature/172_new\nline.pdf") is None


def test_a_passage_shows_its_printed_page_and_links_the_pdfs_own(tmp_path, t_cell_answer):
    corpus = tmp_path / "corpus"
    (corpus / "literature").mkdir(parents=True)
    make_pdf(corpus / "literature" / "170_poggio.pdf", [["Page one."], ["Page two."]])
    links = FileLinks(corpus.resolve(), ((corpus / "literature").resolve(),))
    sentence = t_cell_answer.sentences[0]
    evidence = t_cell_answer.evidence_by_id(sentence.evidence_ids[0]).model_copy(update={
        "source_path": "literature/170_poggio.pdf", "page": 2, "page_label": "1246"})
    shown = t_cell_answer.model_copy(update={"evidence": [evidence], "sentences": [sentence.model_copy(
        update={"evidence_ids": [evidence.id]})]})
    panel = evidence_panel_html([Turn(T_CELLS, shown)], 0, 0, links)
    assert "<dt>Page</dt><dd>1246</dd>" in panel and "170_poggio.pdf#page=2" in panel and ", page 1246</a>" in panel


def test_markdown_export_keeps_citations_evidence_and_references(t_cell_answer):
    text = answer_markdown(t_cell_answer)
    assert text.startswith("# exorag answer")
    assert f"## {T_CELLS}" in text
    for sentence in t_cell_answer.sentences:
        assert sentence.citation in text
    assert "### Evidence" in text and "review/review-analysis.txt" in text
    cited = sorted({n for s in t_cell_answer.sentences for n in s.refs})
    for number in cited:
        reference = fake_reference(number)
        assert f"[{number}] {reference['citation']} https://doi.org/{reference['doi']}" in text


def test_markdown_export_shows_corpus_links_and_html_as_text_not_as_links():
    hostile = ('See the [full dataset](javascript:alert(document.cookie)) and <a href="data:text/html,x">the '
               'figure</a> [170].')
    evidence = Evidence(id="e1", chunk_id="c", source_label="[Review](javascript:x)", source_path="r.txt", refs=[170],
                        text=hostile, section="[Methods](javascript:z) <img src=x onerror=alert(1)>")
    answer = Answer(question="What is <b>shown</b>?", answer=hostile, evidence=[evidence], references=[
        Reference(number=170, citation="Poggio M. [Cell](javascript:y) 2019.", doi="10.1016/j.cell.2019.02.016")],
        sentences=[Sentence(text=hostile.removesuffix(" [170]."), citation="[170]", refs=[170], evidence_ids=["e1"])])
    rendered = MarkdownIt("commonmark").render(answer_markdown(answer))
    assert re.findall(r"<a\s|<b>|<img", rendered) == []  # no link, no HTML element
    assert rendered.count("[full dataset](javascript:alert(document.cookie))") == 2  # shown as written
    assert "https://doi.org/10.1016/j.cell.2019.02.016" in rendered


def test_markdown_export_shows_the_verdict_the_basis_and_what_is_not_answered(indexed_settings):
    yes_no = answer("Does hypoxia increase exosome release?", settings=indexed_settings)
    assert yes_no.verdict == "yes" and "**Yes** ([13-16])" in answer_markdown(yes_no)
    partial = answer("What therapeutic strategies target exosomes, and what are their limitations?", settings=indexed_settings)
    assert any(not f.covered for f in partial.facets)
    assert "_The indexed literature does not describe" in answer_markdown(partial)
    assert yes_no.basis_note and f"_{yes_no.basis_note}_" in answer_markdown(yes_no)


def test_conversation_export_numbers_the_turns_and_shows_how_a_follow_up_was_read(t_cell_answer, france_answer,
                                                                                  indexed_settings):
    follow_up = answer("and in melanoma?", AnswerOptions(history=[(T_CELLS, t_cell_answer.answer)]), indexed_settings)
    assert follow_up.standalone_question
    text = conversation_markdown([t_cell_answer, france_answer, follow_up])
    assert f"## 1. {T_CELLS}" in text and f"## 2. {FRANCE}" in text and "## 3. and in melanoma?" in text
    assert "**No answer from the indexed literature.**" in text
    assert f"_Read as: {follow_up.standalone_question}_" in text
    assert text.count("## References") == 1
    assert file_name_for(T_CELLS, "answer") == "exorag-answer-how-do-tumour-exosomes-blunt-t-cells.md"


def test_upload_names_follow_the_corpus_convention():
    assert target_name(170, "Poggio 2019 (Cell).PDF") == "170_poggio-2019-cell.pdf"
    assert target_name(58, "0058-li2020.pdf") == "58_li2020.pdf"
    assert target_name(7, "../../etc/passwd.pdf") == "7_passwd.pdf"
    assert target_name(9, "%%%.pdf") == "9_paper.pdf"
    assert check_number(170.0) == 170
    assert check_number(99_999) == 99_999
    for bad in (None, 0, -3, 12.5, 100_000, float("nan"), float("inf"), "nan", "1e999", "twelve"):
        with pytest.raises(PaperRejected):
            check_number(bad)


@pytest.fixture
def private_settings(indexed_settings: Settings, tmp_path: Path) -> Settings:
    """A copy of the bundled corpus and index that a test may change."""
    shutil.copytree(indexed_settings.corpus, tmp_path / "corpus")
    shutil.copytree(indexed_settings.index, tmp_path / "index")
    return get_settings(corpus=tmp_path / "corpus", index=tmp_path / "index")


def test_a_corrupt_pdf_is_refused_and_nothing_changes(private_settings, tmp_path):
    before = index_stats(private_settings)["chunks"]
    corrupt = make_truncated_pdf(tmp_path / "Broken download.pdf")
    with pytest.raises(PaperRejected, match="corrupt or truncated PDF.*Nothing was saved"):
        add_paper(private_settings, corrupt, 901)
    assert not list((private_settings.corpus / "literature").glob("901*"))
    assert index_stats(private_settings)["chunks"] == before


def test_an_upload_whose_indexing_fails_halfway_leaves_neither_the_file_nor_its_passages(
        private_settings, tmp_path, monkeypatch):
    """A full disk when the lexical index is saved, after the paper's vectors were written: the
    upload is refused, and neither the PDF nor any passage of it stays to be cited."""
    from exorag.store.index import Index

    saving = Index.rebuild_lexical
    failures = iter([OSError(28, "No space left on device")])

    def full_disk_once(self, *args, **kwargs):
        if (error := next(failures, None)) is not None:
            raise error
        return saving(self, *args, **kwargs)

    monkeypatch.setattr(Index, "rebuild_lexical", full_disk_once)
    before = index_stats(private_settings)["chunks"]
    paper = make_pdf(tmp_path / "paper.pdf", [["# Exosomes", "Tumour exosomes carry PD-L1 to lymph nodes."]])
    with pytest.raises(PaperRejected, match=r"literature/903_paper\.pdf: the index could not be written .*not added"):
        add_paper(private_settings, paper, 903)
    assert not list((private_settings.corpus / "literature").glob("903*"))
    stats = index_stats(private_settings)
    assert stats["chunks"] == before and not any(s["path"].startswith("literature/903") for s in stats["sources"])


def test_a_second_pdf_for_the_same_reference_is_refused(private_settings, tmp_path):
    literature = private_settings.corpus / "literature"
    literature.mkdir(exist_ok=True)
    make_pdf(literature / "905_first.pdf", [["# Exosomes", "Tumour exosomes carry PD-L1."]])
    second = make_pdf(tmp_path / "second.pdf", [["# Exosomes", "Another copy."]])
    with pytest.raises(PaperRejected, match="Reference 905 already has a PDF: literature/905_first.pdf"):
        add_paper(private_settings, second, 905)
    # Ingest also reads upper-case ".PDF" and subfolders: so does the check.
    make_pdf(literature / "907_upper.PDF", [["# Exosomes", "Tumour exosomes carry PD-L1."]])
    (literature / "pdfs").mkdir()
    make_pdf(literature / "pdfs" / "908_nested.pdf", [["# Exosomes", "Tumour exosomes carry PD-L1."]])
    with pytest.raises(PaperRejected, match="Reference 907 already has a PDF: literature/907_upper.PDF"):
        add_paper(private_settings, second, 907)
    with pytest.raises(PaperRejected, match="Reference 908 already has a PDF: literature/pdfs/908_nested.pdf"):
        add_paper(private_settings, second, 908)
    text_file = tmp_path / "notes.txt"
    text_file.write_text("not a pdf", encoding="utf-8")
    with pytest.raises(PaperRejected, match="not a PDF"):
        add_paper(private_settings, text_file, 906)
