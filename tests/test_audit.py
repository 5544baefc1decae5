"""`exorag audit` on a generated corpus: a review whose sentences cite papers that support,
contradict or do not mention them, and one paper that is not in the corpus."""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from typer.testing import CliRunner

from exorag.audit.core import Audit, AuditItem, Passage
from exorag.audit.render import audit_markdown, highlighted
from exorag.cli import app
from exorag.config import Settings, get_settings

PAPERS = {
    "literature/101_ortiz2021.txt": (
        "Oncogenic KRAS in lung adenocarcinoma. We silenced KRAS with two independent shRNAs. "
        "Knockdown of KRAS reduced colony formation by 60% in A549 lung cancer cells. "
        "Tumour xenografts of knockdown cells grew more slowly in nude mice. "
        "Phosphorylated ERK fell in parallel, whereas AKT phosphorylation did not change."
    ),
    "literature/102_berg2019.txt": (
        "Galectin signalling in the stroma. Secreted LGALS3 binds ITGB1 on fibroblasts and activates YAP signalling. "
        "Fibroblasts exposed to LGALS3 deposited more fibronectin. Blocking ITGB1 with an antibody abolished the effect."
    ),
    "literature/103_lindqvist2020.txt": (
        "Fin regeneration in zebrafish. Amputated caudal fins regrew within fourteen days at 28 degrees. "
        "Blastema formation required retinoic acid signalling and osteoblast dedifferentiation."
    ),
}
REVIEW = """Signalling in tumour stroma

Knockdown of KRAS reduced colony formation by 60% in A549 lung cancer cells [101].
Knockdown of KRAS increased colony formation by 60% in A549 lung cancer cells [101].
Secreted LGALS3 binds ITGB1 on fibroblasts [102, 103].
Secreted LGALS3 binds ITGB1 on fibroblasts and activates YAP signalling, which triggers apoptosis of dendritic cells [102].
MMP9 cleaves collagen IV in the basement membrane of invasive tumours [104].
This paragraph cites nothing and is not audited.
Scores were scaled to the interval [0, 1] before pooling, which cites nothing either.

References

[101] Ortiz R, et al. KRAS knockdown in A549 cells. Cell Rep. 2021;34(2):108-120.
[102] Lee J, et al. Galectin-3 and integrin beta 1 in tumour stroma. Nature. 2019;527:329-335.
[104] Peinado H, et al. Matrix metalloproteinases in invasion. Nat Med. 2012;18:883-891.
"""
EXPECTED = [
    ("reduced colony formation", 101, "supported"),
    ("increased colony formation", 101, "contradicted"),
    ("binds ITGB1 on fibroblasts [", 102, "supported"),
    ("binds ITGB1 on fibroblasts [", 103, "not_found"),
    ("apoptosis of dendritic cells", 102, "partial"),
    ("MMP9 cleaves", 104, "paper_missing"),
]


def run(*args: str | Path):
    return CliRunner().invoke(app, [str(arg) for arg in args], env={"COLUMNS": "200"})


@pytest.fixture(scope="module")
def audit_corpus(tmp_path_factory) -> Settings:
    from exorag.ingest.sync import sync_corpus

    base = tmp_path_factory.mktemp("audit")
    corpus = base / "corpus"
    for relative, text in {**PAPERS, "review/review.txt": REVIEW}.items():
        (corpus / relative).parent.mkdir(parents=True, exist_ok=True)
        (corpus / relative).write_text(text, encoding="utf-8")
    settings = get_settings(corpus=corpus, index=base / "index")
    assert not sync_corpus(settings).failed
    return settings


@pytest.fixture(scope="module")
def audited(audit_corpus, tmp_path_factory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("audit-out")
    result = run("audit", "--corpus", audit_corpus.corpus, "--index", audit_corpus.index, "--out", out, "--judge", "rules")
    assert result.exit_code == 0, result.output
    return out, result.stdout


def test_every_cited_paper_gets_its_verdict_and_a_missing_paper_is_named(audited):
    out, _ = audited
    report = json.loads((out / "audit.json").read_text())
    found = [(item["sentence"], item["ref"], item["verdict"]) for item in report["items"]]
    assert len(found) == len(EXPECTED)
    for (sentence, ref, verdict), (needle, expected_ref, expected_verdict) in zip(found, EXPECTED):
        assert needle in sentence and ref == expected_ref and verdict == expected_verdict, (sentence, ref, verdict)
    assert report["summary"] == {"sentences": 5, "pairs": 6, "supported": 2, "partial": 1, "contradicted": 1,
                                 "not_found": 1, "paper_missing": 1}


def test_each_verdict_carries_the_passage_it_rests_on(audited):
    out, _ = audited
    items = json.loads((out / "audit.json").read_text())["items"]
    supported = items[0]["passage"]
    assert supported["source_path"].endswith("101_ortiz2021.txt") and supported["chunk_id"]
    assert "Knockdown of KRAS reduced colony formation by 60%" in supported["evidence"]
    assert items[1]["passage"]["evidence"] == supported["evidence"]
    assert items[5]["passage"] is None and items[5]["score"] == 0.0


def test_the_audit_is_written_as_markdown_and_escaped_html_with_a_summary(audited):
    out, stdout = audited
    assert "5 sentences, 6 citations: 2 supported, 1 partly supported, 1 contradicted" in " ".join(stdout.split())
    markdown = (out / "audit.md").read_text()
    assert "| Knockdown of KRAS increased colony formation" in markdown and "contradicted" in markdown
    html = (out / "audit.html").read_text()
    assert "<mark>Knockdown of KRAS reduced colony formation by 60% in A549 lung cancer cells.</mark>" in html
    assert "paper not in the corpus" in html and html.count("<tr class='verdict-") == 6


def test_claim_mode_suggests_the_paper_that_states_the_claim(audit_corpus):
    result = run("audit", "--corpus", audit_corpus.corpus, "--index", audit_corpus.index, "--judge", "rules",
                 "--claim", "Secreted LGALS3 binds ITGB1 on fibroblasts.", "--json")
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["claim"] == "Secreted LGALS3 binds ITGB1 on fibroblasts."
    first = answer["suggestions"][0]
    assert first["ref"] == 102 and first["verdict"] == "supported"
    assert "LGALS3 binds ITGB1" in first["passage"]["evidence"]
    assert all(s["verdict"] != "supported" for s in answer["suggestions"][1:])


def test_claim_mode_prints_a_claim_with_brackets_as_written(audit_corpus):
    result = run("audit", "--corpus", audit_corpus.corpus, "--index", audit_corpus.index, "--judge", "rules",
                 "--claim", "Secreted LGALS3 [and/or] its [/] partner binds ITGB1 on fibroblasts.")
    assert result.exit_code == 0, result.output
    assert "[and/or] its [/] partner" in " ".join(result.stdout.split())


def test_claim_mode_rejects_an_empty_sentence(audit_corpus):
    result = run("audit", "--index", audit_corpus.index, "--corpus", audit_corpus.corpus, "--claim", "  ")
    assert result.exit_code == 2 and "--claim is empty" in result.stderr


def test_the_ui_audit_tab_runs_the_audit_once_then_loads_it(audit_corpus):
    from ui.audit_view import audit_page

    page = audit_page(audit_corpus, run=True)
    assert (audit_corpus.index / "audit" / "audit.json").is_file()
    assert "5 sentences, 6 citations: 2 supported" in page and page.count("<tr class='verdict-") == 6
    assert "<mark>Secreted LGALS3 binds ITGB1 on fibroblasts and activates YAP signalling.</mark>" in page
    (audit_corpus.index / "audit" / "audit.md").unlink()
    assert audit_page(audit_corpus) == page  # loaded from audit.json, not run again


def test_a_rewritten_audit_is_never_read_half_written_and_a_failed_write_keeps_the_last_one(audited):
    from exorag.audit.core import AuditItem, load_audit
    from exorag.audit.render import write_audit

    out, _ = audited
    audit = load_audit(out / "audit.json")
    folder = out / "rewritten"
    write_audit(audit, folder)
    failures: list[str] = []
    stop = threading.Event()

    def read_while_rewritten() -> None:  # as the UI's Audit tab of another user does
        while not stop.is_set():
            try:
                load_audit(folder / "audit.json")
            except (ValueError, KeyError) as error:
                failures.append(repr(error))

    readers = [threading.Thread(target=read_while_rewritten) for _ in range(2)]
    for reader in readers:
        reader.start()
    for _ in range(300):
        write_audit(audit, folder)
    stop.set()
    for reader in readers:
        reader.join()
    assert failures == []
    # A write that fails half-way (here: text UTF-8 cannot encode) leaves the last audit whole.
    broken = replace(audit, items=[*audit.items, AuditItem(sentence="\udc80", section="", ref=1, verdict="not_found", score=0.0)])
    with pytest.raises(UnicodeEncodeError):
        write_audit(broken, folder)
    assert load_audit(folder / "audit.json") == audit
    assert sorted(path.name for path in folder.iterdir()) == ["audit.html", "audit.json", "audit.md"]


def test_the_evidence_is_marked_in_its_passage_though_the_judge_took_the_papers_citations_out() -> None:
    passage = Passage(chunk_id="c", source_path="literature/170_x.txt", page=3,
                      text="Background. Exosomal PD-L1 suppresses CD8 T cell activation in the draining "
                           "lymph node [12, 13]. Other work followed.",
                      evidence="Exosomal PD-L1 suppresses CD8 T cell activation in the draining lymph node.")
    assert ("<mark>Exosomal PD-L1 suppresses CD8 T cell activation in the draining lymph node [12, 13].</mark>"
            in highlighted(passage))


def test_audit_markdown_shows_a_papers_markup_as_text_never_as_html_or_a_link() -> None:
    hostile = 'Exosomes carry PD-L1 <img src=x onerror="alert(1)"> and [data](javascript:alert(1)) | end.'
    passage = Passage(chunk_id="c", source_path="literature/170_x.pdf", page=3, text=hostile, evidence=hostile)
    audit = Audit(items=[AuditItem("Exosomal PD-L1 suppresses T cells [170].", "Evasion", 170, "supported", 0.9, passage)],
                  sentences=1)
    rendered = MarkdownIt("commonmark").enable("table").render(audit_markdown(audit))
    assert "<img" not in rendered and "<a " not in rendered
    assert "&lt;img" in rendered and "[data](javascript:alert(1))" in rendered
