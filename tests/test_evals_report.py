"""The run harness (failures recorded, resume), reports (JSON, Markdown, HTML with plots), --compare
and the --min/--max gate, on answers built by hand."""

from __future__ import annotations

import json
import re
import threading

import pytest
from markdown_it import MarkdownIt

from evals.compare import RunNotFound, compare_reports, load_report
from evals.dataset import EvalItem
from evals.gate import ThresholdError, check_thresholds, parse_thresholds
from evals.harness import ITEMS_FILE, ResumeMismatch, read_results, run_items
from evals.metrics import METRIC_NAMES
from evals.report import build_report, write_report
from exorag.judge.rules import RulesJudge
from exorag.models import Answer, Evidence, Sentence

PASSAGE = "Exosomal PD-L1 binds PD-1 receptors on T cells and suppresses their activation."
ITEMS = [
    EvalItem(id="a1", question="How do exosomes blunt T cells?", answerable=True, gold_refs=[170], key_facts=[["PD-L1"]], topic="immune"),
    EvalItem(id="a2", question="What binds PD-1?", answerable=True, gold_refs=[170], key_facts=[["PD-L1"]], topic="immune",
             false_premise=True),
    EvalItem(id="u1", question="What colour are exosomes?", answerable=False, topic="out of scope"),
    EvalItem(id="boom", question="Which question crashes the system?", answerable=True, key_facts=[["x"]], topic="immune"),
]


class HandSystem:
    """A stand-in system under test: a fixed Answer per question, and a crash on one."""

    def __init__(self, crash: bool = True, latency: float = 50.0):
        self.crash = crash
        self.latency = latency
        self.calls: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, question: str) -> Answer:
        with self._lock:
            self.calls.append(question)
        if "crashes" in question and self.crash:
            raise RuntimeError("index unreadable")
        evidence = [Evidence(id="e1", chunk_id="c1", source_label="Review", source_path="r.txt", text=PASSAGE, refs=[170])]
        if "colour" in question:
            return Answer(question=question, answer="Not covered.", abstained=True, evidence=evidence, timings_ms={"total": 10.0})
        sentence = Sentence(text=PASSAGE, citation="[170]", refs=[170], evidence_ids=["e1"], support=0.9)
        return Answer(question=question, answer=PASSAGE[:-1] + " [170].", sentences=[sentence], evidence=evidence,
                      timings_ms={"total": self.latency})


@pytest.fixture(scope="module")
def judge() -> RulesJudge:
    return RulesJudge()


def test_a_failing_item_is_recorded_and_the_run_goes_on(tmp_path):
    system = HandSystem()
    results = run_items(ITEMS, system, tmp_path, progress_label=None, warm_up=False)
    assert results["boom"].answer is None and results["boom"].error == "RuntimeError: index unreadable"
    assert all(results[id_].answer is not None for id_ in ("a1", "a2", "u1"))
    assert len((tmp_path / ITEMS_FILE).read_text().splitlines()) == 4


def test_resume_runs_only_the_items_not_yet_answered(tmp_path):
    run_items(ITEMS, HandSystem(), tmp_path, progress_label=None, warm_up=False)
    retry = HandSystem(crash=False)
    results = run_items(ITEMS, retry, tmp_path, resume=True, progress_label=None, warm_up=False)
    assert retry.calls == [ITEMS[3].question]
    assert all(result.answer is not None for result in results.values())
    assert read_results(tmp_path / ITEMS_FILE)["boom"].answer is not None


def test_resume_refuses_answers_that_another_system_or_index_produced(tmp_path):
    exorag = {"system": "exorag", "generator": "extractive", "index": "/data/index"}
    run_items(ITEMS, HandSystem(), tmp_path, progress_label=None, warm_up=False, producer=exorag)
    for other in ({**exorag, "system": "baseline"}, {**exorag, "index": "/data/other"}):
        with pytest.raises(ResumeMismatch, match="holds answers of system exorag, generator extractive, index /data/index"):
            run_items(ITEMS, HandSystem(), tmp_path, resume=True, progress_label=None, warm_up=False, producer=other)
    retry = HandSystem(crash=False)
    run_items(ITEMS, retry, tmp_path, resume=True, progress_label=None, warm_up=False, producer=exorag)
    assert retry.calls == [ITEMS[3].question]


def test_a_run_folder_from_before_producers_were_recorded_resumes(tmp_path):
    run_items(ITEMS, HandSystem(), tmp_path, progress_label=None, warm_up=False)
    retry = HandSystem(crash=False)
    run_items(ITEMS, retry, tmp_path, resume=True, progress_label=None, warm_up=False,
              producer={"system": "exorag", "generator": "extractive", "index": "/data/index"})
    assert retry.calls == [ITEMS[3].question]


def test_an_answer_holding_a_line_separator_is_kept_on_resume(tmp_path):
    class Separated(HandSystem):
        def __call__(self, question: str) -> Answer:
            answer = super().__call__(question)
            return answer.model_copy(update={"answer": answer.answer + "\u2028(see table)"})

    run_items(ITEMS[:1], Separated(), tmp_path, progress_label=None, warm_up=False)
    again = HandSystem()
    results = run_items(ITEMS[:1], again, tmp_path, resume=True, progress_label=None, warm_up=False)
    assert again.calls == [] and results["a1"].answer.answer.endswith("\u2028(see table)")


def test_a_fresh_run_starts_a_new_items_file_and_ignores_a_torn_line(tmp_path):
    (tmp_path / ITEMS_FILE).write_text('{"id": "a1", "answer": null, "error": "old"}\n{"id": "a2", "answ')
    assert set(read_results(tmp_path / ITEMS_FILE)) == {"a1"}
    system = HandSystem()
    run_items(ITEMS, system, tmp_path, workers=3, progress_label=None)
    assert len(system.calls) == len(ITEMS) + 1  # every item, plus the warm-up call
    assert len((tmp_path / ITEMS_FILE).read_text().splitlines()) == len(ITEMS)


def test_report_json_holds_exactly_the_design_metrics_and_every_item(tmp_path, judge):
    results = run_items(ITEMS, HandSystem(), tmp_path, progress_label=None, warm_up=False)
    report = build_report(ITEMS, results, judge, system="exorag", dataset="mine.jsonl", generator="extractive")
    paths = write_report(report, tmp_path)
    assert [path.name for path in paths] == ["report.json", "report.md", "report.html"]
    saved = json.loads((tmp_path / "report.json").read_text())
    assert list(saved["metrics"]) == list(METRIC_NAMES)
    assert saved["metrics"]["n"] == 3
    assert saved["metrics"]["abstention_accuracy"] == 1.0
    assert saved["metrics"]["ref_recall"] == 1.0
    assert saved["metrics"]["faithfulness"] == 1.0
    assert [entry["id"] for entry in saved["items"]] == ["a1", "a2", "u1", "boom"]
    assert saved["items"][0]["answer"] == results["a1"].answer.model_dump()
    assert saved["failed"] == [{"id": "boom", "error": "RuntimeError: index unreadable"}]
    assert set(saved["by_topic"]) == {"immune", "out of scope"}
    assert saved["by_topic"]["immune"]["n"] == 2
    assert saved["slices"]["false_premise"]["n"] == 1


def test_a_report_interrupted_while_rendered_leaves_the_last_run_whole(tmp_path, judge, monkeypatch):
    import evals.report

    results = run_items(ITEMS, HandSystem(), tmp_path, progress_label=None, warm_up=False)
    first = build_report(ITEMS, results, judge, system="exorag", dataset="first.jsonl")
    write_report(first, tmp_path / "out")
    written = {path.name: path.read_text() for path in (tmp_path / "out").iterdir()}

    def interrupted(*args: object) -> str:  # Ctrl-C while the plots are drawn, the slowest part
        raise KeyboardInterrupt

    monkeypatch.setattr(evals.report, "render_html", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_report(build_report(ITEMS, results, judge, system="exorag", dataset="second.jsonl"), tmp_path / "out")
    assert {path.name: path.read_text() for path in (tmp_path / "out").iterdir()} == written


def test_markdown_and_html_reports_show_tables_plots_and_the_baseline(tmp_path, judge):
    main = build_report(ITEMS, run_items(ITEMS, HandSystem(), tmp_path / "a", progress_label=None, warm_up=False),
                        judge, system="exorag", dataset="mine.jsonl")
    baseline = build_report(ITEMS, run_items(ITEMS, HandSystem(latency=90.0), tmp_path / "b", progress_label=None, warm_up=False),
                            judge, system="baseline", dataset="mine.jsonl")
    write_report(main, tmp_path / "out", baseline=baseline)
    markdown = (tmp_path / "out" / "report.md").read_text()
    assert "| metric | exorag | baseline |" in markdown
    assert "| latency_ms_p50 | 50.0 | 90.0 |" in markdown
    assert "| boom |" in markdown and "index unreadable" in markdown
    page = (tmp_path / "out" / "report.html").read_text()
    assert page.count('<img alt="') == 3 and page.count('src="data:image/png;base64,') == 3
    assert "<script" not in page and "http://" not in page and "https://" not in page  # self-contained
    saved = json.loads((tmp_path / "out" / "report.json").read_text())
    assert saved["baseline"]["metrics"]["latency_ms_p50"] == 90.0 and saved["baseline"]["system"] == "baseline"


def test_items_to_look_at_name_a_wrong_verdict_and_both_reports_show_the_shapes(tmp_path, judge):
    # A wrong yes/no verdict was left off the list, which then said every item was answered as expected.
    items = [EvalItem(id="v1", question="Does exosomal PD-L1 bind PD-1?", answerable=True, gold_refs=[170],
                      key_facts=[["PD-L1"]], topic="immune", shape="yes_no", verdict="no")]

    class Says(HandSystem):
        def __call__(self, question: str) -> Answer:
            return super().__call__(question).model_copy(update={"verdict": "yes", "shape": "yes_no"})

    report = build_report(items, run_items(items, Says(), tmp_path / "a", progress_label=None, warm_up=False),
                          judge, system="exorag", dataset="mine.jsonl", dataset_sha256="ab" * 32)
    assert report["metrics"]["verdict_accuracy"] == 0.0 and report["dataset_sha256"] == "ab" * 32
    write_report(report, tmp_path / "out")
    markdown, page = (tmp_path / "out" / "report.md").read_text(), (tmp_path / "out" / "report.html").read_text()
    assert "| v1 |" in markdown and "verdict yes" in markdown and "as expected" not in markdown
    assert "verdict yes" in page
    assert "## By question shape" in markdown and "<h2>By question shape</h2>" in page and "<td>yes_no</td>" in page


def test_the_markdown_report_shows_a_question_sets_markup_as_text(tmp_path, judge):
    hostile = [EvalItem(id="x<script>1</script>", question="Which crashes [here](javascript:alert(1)) <img src=x onerror=y>\r|?",
                        answerable=True, key_facts=[["x"]], topic="<b>immune</b>\nsplit")]
    results = run_items(hostile, HandSystem(), tmp_path, progress_label=None, warm_up=False)
    write_report(build_report(hostile, results, judge, system="exorag", dataset="mine.jsonl"), tmp_path / "out")
    rendered = MarkdownIt("commonmark").enable("table").render((tmp_path / "out" / "report.md").read_text())
    assert re.findall(r"<a\s|<img|<script|<b>", rendered) == []
    assert all(line.count("<tr>") <= 1 for line in rendered.splitlines())


def _report(**metrics) -> dict:
    return {"metrics": {name: metrics.get(name) for name in METRIC_NAMES}}


def test_compare_says_what_improved_and_what_regressed():
    before = _report(ref_recall=0.80, key_fact_recall=0.90, false_abstention_rate=0.10, latency_ms_p95=100.0, mrr=0.5, n=60)
    after = _report(ref_recall=0.92, key_fact_recall=0.85, false_abstention_rate=0.02, latency_ms_p95=104.0, mrr=0.502, n=61)
    verdicts = {change.metric: change.verdict for change in compare_reports(before, after)}
    assert verdicts["ref_recall"] == "improved"
    assert verdicts["key_fact_recall"] == "regressed"
    assert verdicts["false_abstention_rate"] == "improved"  # lower is better
    assert verdicts["latency_ms_p95"] == "unchanged"  # within the 10 % jitter allowance
    assert verdicts["mrr"] == "unchanged"
    assert verdicts["faithfulness"] == "n/a"
    assert verdicts["n"] == "changed"


def test_load_report_explains_a_missing_or_foreign_file(tmp_path):
    with pytest.raises(RunNotFound, match="no such report"):
        load_report(tmp_path)
    (tmp_path / "report.json").write_text('{"items": []}')
    with pytest.raises(RunNotFound, match="no 'metrics' object"):
        load_report(tmp_path)


def test_thresholds_fail_below_a_minimum_or_above_a_maximum():
    minimums = parse_thresholds(["ref_recall=0.9", "key_fact_recall=0.9"], "--min")
    maximums = parse_thresholds(["false_abstention_rate=0.05"], "--max")
    metrics = _report(ref_recall=0.95, key_fact_recall=0.85, false_abstention_rate=0.10)["metrics"]
    failures = check_thresholds(metrics, minimums, maximums)
    assert len(failures) == 2
    assert "key_fact_recall = 0.85 is below the minimum 0.9" in failures[0]
    assert "false_abstention_rate = 0.1 is above the maximum 0.05" in failures[1]
    assert check_thresholds(metrics, {"ref_recall": 0.9}, {}) == []
    assert "not measured" in check_thresholds(metrics, {"mrr": 0.5}, {})[0]


@pytest.mark.parametrize("spec", ["ref_recall", "recall=0.9", "ref_recall=high", "ref_recall=nan", "key_fact_recall=-inf"])
def test_a_bad_threshold_is_a_usage_error(spec):
    with pytest.raises(ThresholdError, match="--min"):
        parse_thresholds([spec], "--min")


def test_a_score_of_zero_and_a_metric_not_measured_are_written_on_the_topic_plot(monkeypatch):
    # Neither draws a bar: a topic where every unanswerable question was answered read as unmeasured.
    import evals.plots
    from evals.report import TOPIC_COLUMNS

    drawn = []
    monkeypatch.setattr(evals.plots, "_png", lambda figure: drawn.append(figure) or "")
    metrics = dict.fromkeys(TOPIC_COLUMNS, 1.0)
    report = {"system": "exorag", "by_topic": {
        "thermal": {**metrics, "abstention_accuracy": 0.0}, "biodiversity": {**metrics, "ref_recall": None}}}
    evals.plots.topic_metrics_plot(report)
    labels = [text.get_text() for text in drawn[0].axes[0].texts]
    assert sorted(labels) == ["0", "n/a"]
