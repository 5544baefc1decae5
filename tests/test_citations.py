"""Citation brackets as DESIGN.md writes them: parsing, finding them in text, canonical formatting."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exorag.citations import (
    MAX_RANGE_SPAN,
    MAX_REFERENCE_NUMBER,
    Citation,
    cited_numbers,
    find_citations,
    format_citation,
    format_numbers,
    parse_citation,
)

DASHES = ["-", "\u2013", "\u2014"]  # hyphen, en dash, em dash


@pytest.mark.parametrize(
    ("bracket", "numbers", "notes"),
    [
        ("[58]", {58}, ()),
        ("[59, 61]", {59, 61}, ()),
        ("[59,61]", {59, 61}, ()),
        ("[170-172]", {170, 171, 172}, ()),
        ("[170\u2013172]", {170, 171, 172}, ()),
        ("[170\u2014172]", {170, 171, 172}, ()),
        ("[ 170 \u2013 172 ]", {170, 171, 172}, ()),
        ("[13-16, 14]", {13, 14, 15, 16}, ()),
        ("[8, 73, 171, 308-310]", {8, 73, 171, 308, 309, 310}, ()),
        ("[113, Figure 5]", {113}, ("Figure 5",)),
        ("[162, 161]", {161, 162}, ()),
        ("58", {58}, ()),
    ],
)
def test_parse_citation_examples_of_design(bracket: str, numbers: set[int], notes: tuple[str, ...]) -> None:
    assert parse_citation(bracket) == Citation(frozenset(numbers), notes)


@pytest.mark.parametrize("bracket", ["[sic]", "[a]", "[Figure 5]", "[]", "[ , ]", "[e.g., see below]",
                                     "[0, 1]", "[0-10]", "[0]"])
def test_brackets_without_a_reference_number_are_not_citations(bracket: str) -> None:
    assert parse_citation(bracket) is None


def test_find_citations_skips_non_citations_and_gives_offsets() -> None:
    text = "The authors [sic] report PD-L1 on exosomes [170\u2013172] and TGF-\u03b2 [20, 175]; see [Figure 5]."
    found = list(find_citations(text))
    assert [text[start:end] for start, end, _ in found] == [
        "[170\u2013172]",
        "[20, 175]",
    ]
    assert [set(citation.numbers) for _, _, citation in found] == [
        {170, 171, 172},
        {20, 175},
    ]
    assert cited_numbers(text) == {20, 170, 171, 172, 175}
    assert cited_numbers("No citations here [sic].") == set()


@pytest.mark.parametrize(
    ("numbers", "expected"),
    [
        ({13, 14, 15, 16}, "[13-16]"),
        ({59, 61}, "[59, 61]"),
        ({161, 162}, "[161, 162]"),
        ({8, 73, 171, 308, 309, 310}, "[8, 73, 171, 308-310]"),
        ({58}, "[58]"),
        ({170, 171, 172}, "[170-172]"),
        ({1, 2, 4, 5, 6, 8}, "[1, 2, 4-6, 8]"),
        (set(), ""),
    ],
)
def test_format_numbers_examples_of_design(numbers: set[int], expected: str) -> None:
    assert format_numbers(numbers) == expected


def test_format_numbers_accepts_any_order_and_duplicates() -> None:
    assert format_numbers([310, 8, 309, 171, 73, 308, 8, 171]) == "[8, 73, 171, 308-310]"


def test_format_citation_puts_notes_after_numbers() -> None:
    citation = parse_citation("[113, Figure 5]")
    assert citation is not None
    assert format_citation(citation) == "[113, Figure 5]"
    assert format_citation(Citation(frozenset({16, 14, 13, 15}))) == "[13-16]"
    assert parse_citation(format_citation(citation)) == citation


def canonical_by_runs(numbers: set[int]) -> str:
    """DESIGN.md's rule written independently: maximal runs of >= 3 become a-b, the rest are listed."""
    parts: list[str] = []
    for _, group in itertools.groupby(enumerate(sorted(numbers)), key=lambda pair: pair[1] - pair[0]):
        run = [number for _, number in group]
        parts += [f"{run[0]}-{run[-1]}"] if len(run) >= 3 else [str(number) for number in run]
    return "[" + ", ".join(parts) + "]"


number_sets = st.sets(st.integers(min_value=1, max_value=2000), min_size=1, max_size=40)
# sets with many neighbours, so runs of every length occur often
clustered_sets = st.lists(
    st.tuples(st.integers(min_value=1, max_value=500), st.integers(min_value=1, max_value=6)),
    min_size=1,
    max_size=8,
).map(lambda spans: {start + offset for start, length in spans for offset in range(length)})


@given(st.one_of(number_sets, clustered_sets))
def test_parse_of_format_gives_back_the_set(numbers: set[int]) -> None:
    citation = parse_citation(format_numbers(numbers))
    assert citation is not None
    assert citation.numbers == numbers
    assert citation.notes == ()


@given(st.one_of(number_sets, clustered_sets))
def test_formatting_is_canonical(numbers: set[int]) -> None:
    formatted = format_numbers(numbers)
    assert formatted == canonical_by_runs(numbers)
    reparsed = parse_citation(formatted)
    assert reparsed is not None
    assert format_numbers(reparsed.numbers) == formatted


@given(st.one_of(number_sets, clustered_sets), st.data())
def test_any_spelling_of_a_set_formats_the_same(numbers: set[int], data: st.DataObject) -> None:
    """Unsorted parts, duplicates, ranges written with any dash and any spacing parse to the same set."""
    parts: list[str] = []
    for _, group in itertools.groupby(enumerate(sorted(numbers)), key=lambda pair: pair[1] - pair[0]):
        run = [number for _, number in group]
        if len(run) >= 2 and data.draw(st.booleans()):
            dash = data.draw(st.sampled_from(DASHES))
            space = data.draw(st.sampled_from(["", " "]))
            parts.append(f"{run[0]}{space}{dash}{space}{run[-1]}")
        else:
            parts += [str(number) for number in run]
    duplicates = data.draw(st.lists(st.sampled_from(sorted(numbers)), max_size=3))
    parts += [str(number) for number in duplicates]
    shuffled = data.draw(st.permutations(parts))
    separator = data.draw(st.sampled_from([", ", ",", " , "]))
    citation = parse_citation("[" + separator.join(shuffled) + "]")
    assert citation is not None and citation.numbers == numbers
    assert format_citation(citation) == format_numbers(numbers)


def test_implausibly_wide_range_is_not_expanded() -> None:
    # a guard against typos such as [1-2000]: the limit is MAX_RANGE_SPAN numbers past the start
    assert parse_citation(f"[1-{MAX_RANGE_SPAN + 1}]") == Citation(frozenset(range(1, MAX_RANGE_SPAN + 2)))
    assert parse_citation(f"[1-{MAX_RANGE_SPAN + 2}]") is None
    assert parse_citation(f"[7, 1-{MAX_RANGE_SPAN + 2}]") == Citation(frozenset({7}), (f"1-{MAX_RANGE_SPAN + 2}",))


def test_a_number_longer_than_any_reference_list_is_no_citation() -> None:
    # OCR noise or an accession number in brackets; past 64 bits no index could even store it.
    assert parse_citation(f"[{MAX_REFERENCE_NUMBER}]") == Citation(frozenset({MAX_REFERENCE_NUMBER}))
    assert parse_citation("[9223372036854775808]") is None
    assert parse_citation(f"[12, {MAX_REFERENCE_NUMBER + 1}]") == Citation(frozenset({12}), (str(MAX_REFERENCE_NUMBER + 1),))
    assert parse_citation(f"[{MAX_REFERENCE_NUMBER}-{MAX_REFERENCE_NUMBER + 1}]") is None
