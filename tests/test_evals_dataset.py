"""Loading question sets and judge pairs: any file in DESIGN.md's format, errors naming line and field."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from evals.dataset import DatasetError, load_dataset, load_judge_pairs

ROOT = Path(__file__).resolve().parent.parent
PUBMEDQA = Path(os.environ.get("EXORAG_PUBMEDQA", ROOT.parent / "shared" / "data" / "pubmedqa-dev" / "pqal_dev.json"))
GOOD = {"id": "q1", "question": "How do exosomes blunt T cells?", "answerable": True, "gold_refs": [170],
        "key_facts": [["PD-L1"], ["PD-1", "PD1"]], "topic": "immune"}


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def error_of(path: Path, loader=load_dataset) -> str:
    with pytest.raises(DatasetError) as caught:
        loader(path)
    return str(caught.value)


def test_the_bundled_question_set_loads():
    items = load_dataset(ROOT / "evals" / "datasets" / "exosome_qa.jsonl")
    assert len(items) >= 60
    assert any(not item.answerable for item in items)
    assert all(item.gold_refs == [] and item.key_facts == [] for item in items if not item.answerable)


@pytest.mark.parametrize("name", sorted(p.name for p in (ROOT / "evals" / "datasets").glob("*_qa.jsonl")))
def test_every_bundled_question_set_loads_and_its_key_facts_are_the_reviews_words(name):
    items = load_dataset(ROOT / "evals" / "datasets" / name)
    review = (ROOT / "corpus" / "review" / "review-analysis.txt").read_text(encoding="utf-8").casefold()
    assert len({item.id for item in items}) == len(items)
    assert {True, False} <= {item.answerable for item in items}
    for item in items:
        if item.answerable:
            assert item.key_facts, item.id
            # A fact is scored by its spellings in the answer: one of them must be the review's own.
            assert all(any(v.casefold() in review for v in fact) for fact in item.key_facts), item.id


@pytest.mark.parametrize("name", sorted(p.name for p in (ROOT / "evals" / "datasets" / "pubmedqa").glob("*_qa.jsonl")))
def test_every_pubmedqa_question_set_holds_its_key_facts_in_its_sources_abstracts(name):
    if not PUBMEDQA.exists():
        pytest.skip(f"{PUBMEDQA} is not on this machine")
    abstracts = {pmid: "\n\n".join(item["CONTEXTS"]).casefold()
                 for pmid, item in json.loads(PUBMEDQA.read_text(encoding="utf-8")).items()}
    items = load_dataset(ROOT / "evals" / "datasets" / "pubmedqa" / name)
    assert len({item.id for item in items}) == len(items) and {True, False} <= {item.answerable for item in items}
    for item in items:
        sources = [abstracts[pmid] for pmid in item.model_extra.get("source_pmids", [])]
        assert bool(sources) == item.answerable, item.id
        # The corpus is the abstracts without their conclusions: every fact is in a source's text.
        assert all(any(v.casefold() in text for v in fact for text in sources) for fact in item.key_facts), item.id


def test_the_bundled_calibration_pairs_load():
    pairs = load_judge_pairs(ROOT / "evals" / "datasets" / "judge_calibration.jsonl")
    assert len(pairs) >= 150
    assert {True, False} <= {pair.label for pair in pairs}


def test_a_minimal_item_gets_defaults_and_extra_fields_are_kept(tmp_path):
    path = write_lines(tmp_path / "mine.jsonl", [
        json.dumps({"id": "x", "question": "Out of scope?", "answerable": False, "source": "me"}),
        "",
        json.dumps({**GOOD, "id": "y", "key_facts": ["PD-L1", ["PD-1", "PD1"]], "false_premise": True}),
    ])
    first, second = load_dataset(path)
    assert first.topic == "" and first.gold_refs == [] and first.model_extra == {"source": "me"}
    assert second.key_facts == [["PD-L1"], ["PD-1", "PD1"]] and second.false_premise


def test_bad_json_names_the_line(tmp_path):
    path = write_lines(tmp_path / "bad.jsonl", [json.dumps(GOOD), '{"id": "q2", "question": "x",'])
    message = error_of(path)
    assert "line 2" in message and "not valid JSON" in message and "bad.jsonl" in message


def test_a_line_nested_too_deeply_or_writing_a_field_twice_names_the_line(tmp_path):
    nested = write_lines(tmp_path / "nested.jsonl", [json.dumps(GOOD), "[" * 100_000 + "]" * 100_000])
    assert "nested.jsonl line 2: nested too deeply" in error_of(nested)
    twice = json.dumps(GOOD).replace('"gold_refs"', '"gold_refs": [170], "gold_refs"', 1)
    repeated = write_lines(tmp_path / "twice.jsonl", [twice])
    assert "twice.jsonl line 1: field 'gold_refs' is written twice" in error_of(repeated)


def test_a_missing_field_names_the_line_and_field(tmp_path):
    broken = {key: value for key, value in GOOD.items() if key != "answerable"}
    path = write_lines(tmp_path / "missing.jsonl", [json.dumps(GOOD), json.dumps({**broken, "id": "q2"})])
    message = error_of(path)
    assert "line 2" in message and "missing field 'answerable'" in message


@pytest.mark.parametrize(
    ("field", "value", "where"),
    [
        ("answerable", "yes", "answerable"),
        ("gold_refs", ["170"], "gold_refs.0"),
        ("gold_refs", 170, "gold_refs"),
        ("key_facts", [["PD-L1", 5]], "key_facts.0.1"),
        ("question", 42, "question"),
    ],
)
def test_a_wrong_type_names_the_line_and_field(tmp_path, field, value, where):
    path = write_lines(tmp_path / "typed.jsonl", [json.dumps({**GOOD, "id": "q0"}), "", json.dumps({**GOOD, field: value})])
    message = error_of(path)
    assert "line 3" in message and f"field '{where}'" in message


def test_duplicate_ids_and_inconsistent_unanswerable_items_are_rejected(tmp_path):
    duplicate = write_lines(tmp_path / "dup.jsonl", [json.dumps(GOOD), json.dumps(GOOD)])
    assert "line 2" in error_of(duplicate) and "duplicate id 'q1'" in error_of(duplicate)
    unanswerable = write_lines(tmp_path / "un.jsonl", [json.dumps({**GOOD, "answerable": False, "key_facts": []})])
    assert "line 1" in error_of(unanswerable) and "field 'gold_refs'" in error_of(unanswerable)


def test_empty_files_and_non_objects_are_rejected(tmp_path):
    assert "no items" in error_of(write_lines(tmp_path / "empty.jsonl", [""]))
    assert "line 1" in error_of(write_lines(tmp_path / "list.jsonl", ["[1, 2]"]))
    assert "file not found" in error_of(tmp_path / "absent.jsonl")


def test_judge_pairs_accept_a_list_of_passages_and_report_bad_labels(tmp_path):
    good = {"claim": "PD-L1 binds PD-1.", "evidence": ["PD-L1 binds", "PD-1 on T cells"], "label": True}
    path = write_lines(tmp_path / "pairs.jsonl", [json.dumps(good), json.dumps({**good, "label": "true"})])
    assert "line 2" in error_of(path, load_judge_pairs) and "field 'label'" in error_of(path, load_judge_pairs)
    (pair,) = load_judge_pairs(write_lines(tmp_path / "one.jsonl", ["", json.dumps(good)]))
    assert pair.evidence_text == "PD-L1 binds\nPD-1 on T cells" and pair.line == 2


@pytest.mark.parametrize(("fields", "expected"), [
    ({"key_facts": [["PD-L1"], [""], ["  "]]}, "field 'key_facts': fact 2 has no non-blank spelling"),
    ({"gold_refs": [-3, 0]}, "field 'gold_refs.0': input should be greater than or equal to 1"),
    ({"ref_groups": [[170], [0]]}, "field 'ref_groups.1.0': input should be greater than or equal to 1"),
    ({"answerable": False, "gold_refs": [], "key_facts": [], "ref_groups": [[170]]},
     "field 'ref_groups': must be empty when answerable is false"),
    ({"answerable": False, "gold_refs": [], "key_facts": [], "verdict": "yes"},
     "field 'verdict': must be empty when answerable is false"),
])
def test_gold_that_could_only_be_scored_wrongly_is_rejected(tmp_path, fields, expected):
    assert expected in error_of(write_lines(tmp_path / "gold.jsonl", [json.dumps({**GOOD, **fields})]))


def test_an_unanswerable_yes_no_question_may_say_the_literature_does_not_address_it(tmp_path):
    item = {**GOOD, "answerable": False, "gold_refs": [], "key_facts": [], "verdict": "not_addressed"}
    assert load_dataset(write_lines(tmp_path / "na.jsonl", [json.dumps(item)]))[0].verdict == "not_addressed"


def test_a_folder_and_a_pair_without_evidence_are_named(tmp_path):
    assert f"{tmp_path}: a folder, not a JSON Lines file" in error_of(tmp_path)
    for evidence in ([], "  "):
        pair = {"claim": "PD-L1 binds PD-1.", "evidence": evidence, "label": True}
        assert "field 'evidence': value error, must be a non-empty passage or list of passages" in error_of(
            write_lines(tmp_path / "pairs.jsonl", [json.dumps(pair)]), load_judge_pairs)


@pytest.mark.parametrize(("typo", "meant"), [("gold_ref", "gold_refs"), ("keyfacts", "key_facts"), ("topc", "topic")])
def test_a_misspelt_field_is_named_with_the_one_meant(tmp_path, typo, meant):
    item = {**{k: v for k, v in GOOD.items() if k != meant}, typo: GOOD[meant]}
    message = error_of(write_lines(tmp_path / "typo.jsonl", [json.dumps(GOOD | {"id": "q0"}), json.dumps(item)]))
    assert f"line 2: unknown field {typo!r} (did you mean {meant!r}?)" in message


def test_a_field_that_only_looks_like_a_known_one_beside_it_is_kept(tmp_path):
    item = {**GOOD, "question_id": "PMC-7", "qid": 7, "uid": "u7"}
    assert load_dataset(write_lines(tmp_path / "ids.jsonl", [json.dumps(item)]))[0].model_extra == {
        "question_id": "PMC-7", "qid": 7, "uid": "u7"}


def test_an_empty_ref_group_and_a_blank_id_or_question_are_rejected(tmp_path):
    assert "field 'ref_groups.1'" in error_of(write_lines(tmp_path / "g.jsonl", [json.dumps({**GOOD, "ref_groups": [[170], []]})]))
    for field in ("id", "question"):
        assert f"field '{field}': value error, must not be blank" in error_of(
            write_lines(tmp_path / f"{field}.jsonl", [json.dumps({**GOOD, field: "   "})]))


def test_a_byte_order_mark_and_a_line_separator_inside_a_string_are_read(tmp_path):
    path = tmp_path / "excel.jsonl"
    question = "How does hypoxia change exosome release?\u2028(breast cancer)"
    path.write_text("\ufeff" + json.dumps({**GOOD, "question": question}, ensure_ascii=False) + "\n", encoding="utf-8")
    assert [item.question for item in load_dataset(path)] == [question]
